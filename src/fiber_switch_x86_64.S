/*
 * src/fiber_switch_x86_64.S — parc's fiber context switch for x86-64
 * (System V AMD64 ABI, ELF targets).
 *
 *   void *parc_ctx_switch_(void **save_sp, void *to_sp, void *arg,
 *                          void *(*hook)(void *arg));
 *
 * Saves the general registers the ABI says a callee must preserve (System
 * V AMD64 ABI, section 3.2.1 "Registers and the Stack Frame": %rbx, %rbp,
 * %r12-%r15, %rsp) on the current stack, stores the stack pointer in
 * *save_sp, loads to_sp and restores the same frame from there. It
 * calls hook(arg) on the other stack (when hook is not NULL) and returns
 * its result (or arg) as the value of the parc_ctx_switch_ call that
 * suspended that context (src/fiber_context.h: parc_ctx_hook_fn). Everything else is
 * caller-saved, so the C compiler has already spilled whatever it needs
 * around the call.
 *
 * What a switch preserves for the context it suspends, register by
 * register (System V AMD64 ABI, 3.2.1 and figure 3.4):
 *   saved      %rbx %rbp %r12 %r13 %r14 %r15 (callee-saved), %rsp (stored
 *              in *save_sp), %rip (the return address, popped and jumped
 *              to on the way back). Six pushes and six pops: the fewest a
 *              switch behind a function call can do, since the code that
 *              called parc_fiber_resume or parc_fiber_yield (compiled
 *              elsewhere) may keep any of the six live across the call.
 *   not saved, because the caller already assumes a call destroys them:
 *              %rax %rcx %rdx %rsi %rdi %r8-%r11, every vector register
 *              (%xmm0-15, %ymm, %zmm16-31 and the AVX-512 mask registers
 *              %k0-7 are all caller-saved in this ABI), the x87 register
 *              stack (empty at a call), the status flags (and DF, which
 *              the ABI requires clear at every call and return, so it is
 *              clear on both sides).
 *   not saved, though the ABI calls them callee-saved: the control bits
 *              of %mxcsr and the x87 control word (below).
 *   not a register of the context: %fs (the thread's TLS base: a fiber
 *              that continues on another thread sees that thread's).
 * A switch behind an inline asm statement that names the six as clobbered
 * would let the compiler keep only the live ones, but parc_fiber_resume
 * and parc_fiber_yield are library functions: their own callers' live
 * registers are unknown, so the compiler would push all six in their
 * prologues anyway.
 *
 * The hook: one test and a branch not taken when hook is NULL (a resume);
 * otherwise an indirect call on the arriving stack. A by-hand yield's
 * hook is a single release store (switched_from in src/fiber.c, a plain
 * mov on x86-64) plus the call and return; a spawned fiber's park or
 * yield runs the scheduler's action there.
 *
 * Not switched: the control bits of %mxcsr and the x87 control word
 * (rounding mode, exception masks), which the ABI also calls
 * callee-saved. They stay a property of the thread, as FPCR does in
 * parc's AArch64 switch and as in Go's and marl's switches: a fiber that
 * changes them restores them before it yields, parks or returns
 * (parc/fiber.h says so). Boost.Context's jump_fcontext saves and loads
 * both; measured here (AMD EPYC), STMXCSR and LDMXCSR are microcoded and
 * made a round trip two to three times slower than the rest of it.
 *
 * The switch returns with an indirect jump rather than `ret`: the return
 * stack buffer predicts a `ret` to go back to the call on the stack being
 * left, which is wrong at every switch (a misprediction each, which
 * tripled the round trip here), while the branch target predictor learns
 * the jump's targets (jump_fcontext returns the same way).
 *
 * Frame on a suspended stack (from the saved stack pointer up):
 *     +0  8 bytes unused (keeps the frame's alignment)
 *     +8  r15, +16 r14, +24 r13, +32 r12, +40 rbx, +48 rbp
 *    +56  return address
 * parc_ctx_make_ (src/fiber_context.c) lays out the same frame on a fresh
 * stack with the return address pointing at parc_ctx_start_, which calls
 * the entry function kept in %r12 with the switch's result as its argument.
 */
#if defined(__x86_64__) && defined(__ELF__)

    .text
    .globl  parc_ctx_switch_
    .hidden parc_ctx_switch_
    .type   parc_ctx_switch_, @function
    .p2align 4
parc_ctx_switch_:
    .cfi_startproc
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
    movq    %rsp, (%rdi)        /* this context is suspended here */
    movq    %rsi, %rsp          /* from now on: the other stack */
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    movq    %rdx, %rax          /* the other side's parc_ctx_switch_ returns arg */
    testq   %rcx, %rcx
    jnz     2f
1:  popq    %rcx                /* its return address: an indirect jump, not ret */
    jmpq    *%rcx
2:  movq    %rdx, %rdi          /* or hook(arg), run here on the other stack: */
    subq    $8, %rsp            /* %rsp pointed at the return address (8 mod 16) */
    .cfi_def_cfa_offset 16      /* so that an unwinder inside the hook finds it */
    callq   *%rcx
    addq    $8, %rsp
    .cfi_def_cfa_offset 8
    jmp     1b
    .cfi_endproc
    .size   parc_ctx_switch_, .-parc_ctx_switch_

/* First code a new context runs: reached by the jump above with the
 * stack 16-byte aligned, %r12 = entry function, %rax = the hook's result
 * (or arg). The entry
 * function never returns (a finished fiber switches away for good). */
    .globl  parc_ctx_start_
    .hidden parc_ctx_start_
    .type   parc_ctx_start_, @function
    .p2align 4
parc_ctx_start_:
    .cfi_startproc
    .cfi_undefined rip          /* outermost frame: unwinders stop here */
    movq    %rax, %rdi
    callq   *%r12
    ud2
    .cfi_endproc
    .size   parc_ctx_start_, .-parc_ctx_start_

#endif

#if defined(__ELF__)
    .section .note.GNU-stack,"",@progbits
#endif
