// System calls without a C library, and the program's entry point, for the two architectures
// berth builds for. Each call returns the kernel's answer: the result, or -errno.
#ifndef BERTH_ENTRY_SYSCALL_H
#define BERTH_ENTRY_SYSCALL_H

#include <signal.h>
#include <sys/syscall.h>

#if defined(__x86_64__)

static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long result;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

// The kernel starts the program with argc at the stack pointer; the ABI wants the stack 16-byte
// aligned at a call.
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    xor %rbp, %rbp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call entry_main\n"
        "    hlt\n");

#elif defined(__aarch64__)

static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    mov x0, sp\n"
        "    bl entry_main\n"
        "    brk #0\n");

#else
#error "berth-entry is written for x86_64 and aarch64"
#endif

static inline long sys0(long n) { return sys6(n, 0, 0, 0, 0, 0, 0); }
static inline long sys1(long n, long a) { return sys6(n, a, 0, 0, 0, 0, 0); }
static inline long sys2(long n, long a, long b) { return sys6(n, a, b, 0, 0, 0, 0); }
static inline long sys3(long n, long a, long b, long c) { return sys6(n, a, b, c, 0, 0, 0); }
static inline long sys4(long n, long a, long b, long c, long d) { return sys6(n, a, b, c, d, 0, 0); }

// fork as the kernel sees it: a clone that shares nothing and signals the parent at exit (the
// argument order of clone differs between the two architectures, but all but flags are 0 here).
static inline long sys_fork(void) { return sys6(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0); }

#endif
