import Foundation

/// Certificates a test makes with openssl in `directory`: a CA of its own and a server
/// certificate it signed, or one self-signed certificate (a token service's signing key).
enum TestCertificates {
    /// `ca.crt`, and `server.crt`/`server.key` for 127.0.0.1, localhost and `addresses`.
    static func makeServer(in directory: String, addresses: [String] = []) throws {
        let names = (["IP:127.0.0.1", "DNS:localhost"] + addresses.map { "IP:" + $0 }).joined(separator: ",")
        let script = """
            set -e
            cd '\(directory)'
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-ca -keyout ca.key -out ca.crt \
                -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj /CN=berth-test-registry -keyout server.key -out server.csr 2>/dev/null
            printf 'subjectAltName=%s\\nbasicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth\\n' \
                '\(names)' > server.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
                -out server.crt 2>/dev/null
            """
        try run(script)
    }

    /// `name.crt` and `name.key`: a self-signed RSA certificate.
    static func makeSelfSigned(_ name: String, in directory: String) throws {
        try run("""
            set -e
            cd '\(directory)'
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=\(name) -keyout \(name).key -out \(name).crt 2>/dev/null
            """)
    }

    private static func run(_ script: String) throws {
        let made = try Command.run("/bin/sh", ["-c", script], timeout: 60)
        guard made.status == 0 else { throw FixtureError(message: "openssl: \(made.stderr)") }
    }
}
