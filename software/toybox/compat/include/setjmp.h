// Stand-in for <setjmp.h>: wasm (without the exception-handling proposal)
// cannot unwind, so setjmp always takes the direct path and a longjmp is a
// fatal error. toybox only longjmps from toysh and timeout, neither built.
#ifndef ENCLAVE_SETJMP_H
#define ENCLAVE_SETJMP_H
typedef long jmp_buf[1];
typedef long sigjmp_buf[1];
#define setjmp(env) ((void)(env), 0)
#define sigsetjmp(env, save) ((void)(env), (void)(save), 0)
_Noreturn void longjmp(jmp_buf env, int val);
_Noreturn void siglongjmp(sigjmp_buf env, int val);
#endif
