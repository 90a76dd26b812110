/*
 * src/fiber_switch_aarch64.S — parc's fiber context switch for AArch64
 * (AAPCS64, ELF targets).
 *
 *   void *parc_ctx_switch_(void **save_sp, void *to_sp, void *arg,
 *                          void *(*hook)(void *arg));
 *
 * Saves what the Procedure Call Standard for the Arm 64-bit Architecture
 * says a callee must preserve (section 6.1.1: x19-x28, the frame pointer
 * x29, sp; the link register x30 holds the return address; section 6.1.2:
 * the low 64 bits of v8-v15, that is d8-d15) on the current stack, stores
 * sp in *save_sp, loads to_sp and restores the same frame from there. It
 * calls hook(arg) on the other stack (when hook is not NULL) and returns
 * its result (or arg) as the value of the parc_ctx_switch_ call that
 * suspended that context (src/fiber_context.h: parc_ctx_hook_fn). FPCR (rounding mode)
 * is not switched: it stays a property of the thread, as on most fiber
 * libraries for this architecture.
 *
 * Frame on a suspended stack (from the saved sp up, 160 bytes):
 *     +0 x19 x20, +16 x21 x22, +32 x23 x24, +48 x25 x26, +64 x27 x28,
 *    +80 x29 x30, +96 d8 d9, +112 d10 d11, +128 d12 d13, +144 d14 d15
 * parc_ctx_make_ (src/fiber_context.c) lays out the same frame on a fresh
 * stack with x30 = parc_ctx_start_ and x19 = the entry function.
 */
#if defined(__aarch64__) && defined(__ELF__)

    .text
    .globl  parc_ctx_switch_
    .hidden parc_ctx_switch_
    .type   parc_ctx_switch_, %function
    .p2align 4
parc_ctx_switch_:
    .cfi_startproc
    sub     sp, sp, #160
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8,  d9,  [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mov     x9, sp
    str     x9, [x0]            /* this context is suspended here */
    mov     sp, x1              /* from now on: the other stack */
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8,  d9,  [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #160
    mov     x0, x2              /* the other side's parc_ctx_switch_ returns arg */
    cbnz    x3, 2f
    ret
2:  stp     x29, x30, [sp, #-16]!  /* or hook(arg), run here on the other */
    blr     x3                     /* stack; x30 holds the return address */
    ldp     x29, x30, [sp], #16
    ret
    .cfi_endproc
    .size   parc_ctx_switch_, .-parc_ctx_switch_

/* First code a new context runs: x19 = entry function, x0 = the hook's
 * result (or arg). The
 * entry function never returns. */
    .globl  parc_ctx_start_
    .hidden parc_ctx_start_
    .type   parc_ctx_start_, %function
    .p2align 4
parc_ctx_start_:
    .cfi_startproc
    .cfi_undefined x30          /* outermost frame: unwinders stop here */
    blr     x19
    brk     #0
    .cfi_endproc
    .size   parc_ctx_start_, .-parc_ctx_start_

#endif

#if defined(__ELF__)
    .section .note.GNU-stack,"",%progbits
#endif
