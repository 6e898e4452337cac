// Run-time loaders for the benchmark peers: CLBlast (OpenCL BLAS) and OpenBLAS (host CBLAS).
// Both are found with dlopen when the benchmark asks for them, so neither is a build dependency.
#ifndef CPEERS_H
#define CPEERS_H

#include "COpenCL.h"

/// 1 when libclblast could be loaded and exports CLBlastSgemm, else 0.
int cpeers_clblast_available(void);

/// Row-major SGEMM through CLBlast on `queue`: C = alpha·op(A)·op(B) + beta·C.
/// Returns CLBlast's status code (0 on success, -2048 when the library is not available).
int cpeers_clblast_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                         cl_mem a, size_t lda, cl_mem b, size_t ldb, float beta, cl_mem c,
                         size_t ldc, cl_command_queue queue, cl_event *event);

/// 1 when an OpenBLAS (or other CBLAS) shared library exporting cblas_sgemm could be loaded.
int cpeers_cblas_available(void);

/// Row-major cblas_sgemm on host memory. Does nothing when CBLAS is not available.
void cpeers_cblas_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb, float beta, float *c,
                        int ldc);

/// The path of the loaded CBLAS library, or NULL.
const char *cpeers_cblas_library(void);

#endif
