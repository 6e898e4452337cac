#include "CPeers.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

// CLBlast's C API (clblast_c.h): enum values from that header.
enum { CLBLAST_ROW_MAJOR = 101, CLBLAST_NO_TRANS = 111, CLBLAST_TRANS = 112 };
typedef int (*clblast_sgemm_fn)(int layout, int a_transpose, int b_transpose, size_t m, size_t n,
                                size_t k, float alpha, cl_mem a, size_t a_offset, size_t a_ld,
                                cl_mem b, size_t b_offset, size_t b_ld, float beta, cl_mem c,
                                size_t c_offset, size_t c_ld, cl_command_queue *queue,
                                cl_event *event);

// CBLAS (cblas.h): same numeric values as CLBlast's.
typedef void (*cblas_sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k,
                               float alpha, const float *a, int lda, const float *b, int ldb,
                               float beta, float *c, int ldc);

// Each library is looked up once per process; pthread_once makes the lookup thread-safe.
static clblast_sgemm_fn clblast_fn = NULL;
static cblas_sgemm_fn cblas_fn = NULL;
static const char *cblas_path = NULL;
static pthread_once_t clblast_once = PTHREAD_ONCE_INIT;
static pthread_once_t cblas_once = PTHREAD_ONCE_INIT;

static void *first_symbol(const char *const *names, size_t count, const char *symbol,
                          const char **found) {
    for (size_t i = 0; i < count; i++) {
        void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        void *fn = lib ? dlsym(lib, symbol) : NULL;
        if (fn) {
            if (found) *found = names[i];
            return fn;
        }
        if (lib) dlclose(lib);
    }
    return NULL;
}

static void find_clblast(void) {
    static const char *const names[] = {"libclblast.so.1", "libclblast.so", "libclblast.dylib"};
    clblast_fn = (clblast_sgemm_fn)first_symbol(names, 3, "CLBlastSgemm", NULL);
}

static void find_cblas(void) {
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libcblas.so.3",
                                        "libblas.so.3"};
    cblas_fn = (cblas_sgemm_fn)first_symbol(names, 4, "cblas_sgemm", &cblas_path);
}

static clblast_sgemm_fn load_clblast(void) {
    pthread_once(&clblast_once, find_clblast);
    return clblast_fn;
}

static cblas_sgemm_fn load_cblas(void) {
    pthread_once(&cblas_once, find_cblas);
    return cblas_fn;
}

int cpeers_clblast_available(void) { return load_clblast() != NULL; }

int cpeers_clblast_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                         cl_mem a, size_t lda, cl_mem b, size_t ldb, float beta, cl_mem c,
                         size_t ldc, cl_command_queue queue, cl_event *event) {
    clblast_sgemm_fn fn = load_clblast();
    if (!fn) return -2048;
    return fn(CLBLAST_ROW_MAJOR, trans_a ? CLBLAST_TRANS : CLBLAST_NO_TRANS,
              trans_b ? CLBLAST_TRANS : CLBLAST_NO_TRANS, m, n, k, alpha, a, 0, lda, b, 0, ldb,
              beta, c, 0, ldc, &queue, event);
}

int cpeers_cblas_available(void) { return load_cblas() != NULL; }

const char *cpeers_cblas_library(void) { return load_cblas() ? cblas_path : NULL; }

void cpeers_cblas_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                        int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm_fn fn = load_cblas();
    if (fn)
        fn(CLBLAST_ROW_MAJOR, trans_a ? CLBLAST_TRANS : CLBLAST_NO_TRANS,
           trans_b ? CLBLAST_TRANS : CLBLAST_NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c,
           ldc);
}
