// OpenBLAS's CBLAS interface, plus the hooks Unmask uses to re-select OpenBLAS's kernel at run time.
#ifndef UNMASK_COPENBLAS_SHIM_H
#define UNMASK_COPENBLAS_SHIM_H

#include <cblas.h>

// Exported by OpenBLAS builds with DYNAMIC_ARCH (Debian's are), but not declared in cblas.h.
// Declared weak so that a build without them still links; callers check for NULL first.
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

/// Re-runs OpenBLAS's kernel selection (which reads OPENBLAS_CORETYPE). Returns 0 when done,
/// -1 when this OpenBLAS has no run-time kernel selection.
static inline int unmask_openblas_reselect_kernel(void) {
    if (gotoblas_dynamic_init == 0 || gotoblas_dynamic_quit == 0) { return -1; }
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    return 0;
}

#endif
