#!/usr/bin/env python3
"""The registry tests' token service (the distribution spec's Bearer token flow).

GET /token?service=S&scope=repository:NAME:ACTIONS answers {"token": JWT}: an RS256 JWT whose
header carries the signing certificate (x5c), which the registry finds in its rootcertbundle.
The one user (--user/--password, Basic) gets the pull and push it asks for; anonymous callers get
a token with no access (as Docker Hub's service does for a private repository); wrong
credentials get 401. Each request is logged to --log as one line: "user=NAME scope=SCOPE
granted=ACTIONS" or "user=NAME refused". Signs with openssl (no Python packages needed).
"""
import argparse
import base64
import http.server
import json
import subprocess
import time
import urllib.parse
import uuid


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    parser = argparse.ArgumentParser()
    for name in ("port", "key", "cert", "issuer", "service", "user", "password", "log"):
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()
    with open(args.cert) as f:
        pem = f.read()
    der_b64 = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))

    def sign(access, subject):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [der_b64]}
        now = int(time.time())
        claims = {"iss": args.issuer, "sub": subject, "aud": args.service, "exp": now + 600,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", args.key], input=signing_input.encode(),
                                   capture_output=True, check=True).stdout
        return signing_input + "." + b64url(signature)

    def log(line):
        with open(args.log, "a") as f:
            f.write(line + "\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            user = ""
            authorization = self.headers.get("Authorization", "")
            if authorization.startswith("Basic "):
                user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
                if user != args.user or password != args.password:
                    log("user=%s refused" % user)
                    self.answer(401, {"details": "wrong user name or password"})
                    return
            access = []
            for scope in query.get("scope", []):
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                granted = [a for a in actions.split(",") if a in ("pull", "push")] if kind == "repository" and user else []
                log("user=%s scope=%s granted=%s" % (user or "-", scope, ",".join(granted)))
                if granted:
                    access.append({"type": kind, "name": name, "actions": granted})
            token = sign(access, user)
            self.answer(200, {"token": token, "access_token": token, "expires_in": 600})

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", int(args.port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
