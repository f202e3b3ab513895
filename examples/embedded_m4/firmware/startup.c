/* Minimal Cortex-M4 startup for the mps2-an386 board under qemu-system-arm: vector table, FPU on,
   .bss zeroed, C/C++ constructors run, then main's return value becomes the exit code (semihosting).
   Debian's newlib ships no generic Cortex-M startup or linker script, so mpq carries its own. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __stack_top;
extern uint32_t __bss_start__;
extern uint32_t __bss_end__;
extern void __libc_init_array(void);
extern int main(void);

void Reset_Handler(void);
void Default_Handler(void);

void Reset_Handler(void) {
  /* Enable CP10/CP11 (the FPU): the code is built with -mfloat-abi=hard. */
  volatile uint32_t* const cpacr = (volatile uint32_t*)0xE000ED88u;
  *cpacr |= 0xFu << 20;
  __asm volatile("dsb\n\tisb" ::: "memory");
  /* qemu -kernel loads .data in place (it is linked into RAM), so only .bss needs zeroing. */
  for (uint32_t* p = &__bss_start__; p < &__bss_end__; ++p) *p = 0;
  __libc_init_array();
  exit(main());
}

void Default_Handler(void) {
  for (;;) {
  }
}

/* Initial stack pointer, reset, NMI, HardFault, MemManage, BusFault, UsageFault, 4 reserved,
   SVCall, DebugMonitor, reserved, PendSV, SysTick. */
__attribute__((section(".isr_vector"), used)) void (*const vector_table[16])(void) = {
    (void (*)(void))(&__stack_top), Reset_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler,
    Default_Handler, 0, Default_Handler, Default_Handler};
