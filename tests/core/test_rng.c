/* test_rng.c: the Philox4x32-10 generator of core/rng.c: known-answer vectors, the
 * counter layout of draws, uniform and normal statistics, thread-count independence and
 * permutations. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include "vt_test.h"

/* core/rng.c's block function (not in the public header): key = seed, counter =
 * (c0, c1) = (low, high word of counter), c2 = c3 = 0. */
typedef struct { uint32_t v[4]; } philox_ctr;
philox_ctr vt_philox(uint64_t seed, uint64_t counter);

/* Independent reference: the full 128-bit counter, 64-bit key Philox4x32-10 of Salmon et
 * al. (SC'11), written from the paper / Random123's philox.h. */
static void philox_ref(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]}, k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n[4] = {hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0};
        for (int i = 0; i < 4; i++) c[i] = n[i];
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    for (int i = 0; i < 4; i++) out[i] = c[i];
}

/* Random123 kat_vectors, "philox4x32 10" lines: counter[4], key[2] -> output[4] */
static const uint32_t kat[3][10] = {
    {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
     0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
     0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
};

START_TEST(reference_philox_matches_known_answers) {
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        philox_ref(kat[t], kat[t] + 4, out);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(out[i] == kat[t][6 + i], "kat %d word %d: %08x, want %08x", t, i,
                          out[i], kat[t][6 + i]);
    }
}
END_TEST

START_TEST(vt_philox_matches_known_answer_and_reference) {
    philox_ctr z = vt_philox(0, 0); /* the only KAT vector with c2 = c3 = 0 */
    for (int i = 0; i < 4; i++)
        ck_assert_msg(z.v[i] == kat[0][6 + i], "word %d: %08x, want %08x", i, z.v[i], kat[0][6 + i]);
    /* any (seed, counter): key = (seed lo, seed hi), counter = (ctr lo, ctr hi, 0, 0) */
    const uint64_t vals[] = {1, 0xffffffffull, 0x100000000ull, 0x243f6a8885a308d3ull,
                             0xffffffffffffffffull, 0xa4093822299f31d0ull};
    for (int s = 0; s < 6; s++)
        for (int c = 0; c < 6; c++) {
            uint64_t seed = vals[s], ctr = vals[c];
            uint32_t cc[4] = {(uint32_t)ctr, (uint32_t)(ctr >> 32), 0, 0};
            uint32_t kk[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, want[4];
            philox_ref(cc, kk, want);
            philox_ctr got = vt_philox(seed, ctr);
            for (int i = 0; i < 4; i++)
                ck_assert_msg(got.v[i] == want[i], "seed %llx counter %llx word %d: %08x, want %08x",
                              (unsigned long long)seed, (unsigned long long)ctr, i, got.v[i], want[i]);
        }
}
END_TEST

/* Draw i of a stream is u01(philox(seed, offset + i).v[0]) with 24 bits; the offset
 * advances by n, so two draws of n equal one draw of 2n. */
START_TEST(uniform_uses_one_counter_per_element) {
    enum { n = 1000 };
    static float one[2 * n], two[2 * n];
    vt_rng r;
    vt_rng_init(&r, 77);
    vt_rng_uniform(&r, one, 2 * n, 0.f, 1.f);
    ck_assert_int_eq(r.offset, 2 * n);
    vt_rng_init(&r, 77);
    vt_rng_uniform(&r, two, n, 0.f, 1.f);
    vt_rng_uniform(&r, two + n, n, 0.f, 1.f);
    ck_assert_msg(memcmp(one, two, sizeof one) == 0, "split draws differ from one draw");
    for (int i = 0; i < 2 * n; i++) {
        float want = (float)(vt_philox(77, (uint64_t)i).v[0] >> 8) / 16777216.f;
        ck_assert_msg(one[i] == want, "draw %d: %.9g, want %.9g", i, (double)one[i], (double)want);
    }
    ck_assert_int_eq(vt_rng_u32(&r), vt_philox(77, 2 * n).v[0]);
    ck_assert_int_eq(r.offset, 2 * n + 1);
}
END_TEST

START_TEST(uniform_range_and_moments) {
    const int64_t n = 1000000;
    float *x = malloc((size_t)n * sizeof *x);
    vt_rng r;
    vt_rng_init(&r, 3);
    vt_rng_uniform(&r, x, n, -2.f, 3.f);
    double s = 0, s2 = 0, lo = 1e9, hi = -1e9;
    for (int64_t i = 0; i < n; i++) {
        ck_assert_msg(x[i] >= -2.f && x[i] < 3.f, "x[%lld] = %.9g outside [-2, 3)", (long long)i, (double)x[i]);
        s += x[i];
        s2 += (double)x[i] * x[i];
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    double mean = s / n, var = s2 / n - mean * mean;
    /* sd of the mean = 5/sqrt(12 n) = 0.0014 */
    ck_assert_msg(fabs(mean - 0.5) < 0.008, "mean %g, want 0.5", mean);
    ck_assert_msg(fabs(var - 25.0 / 12) < 0.02, "variance %g, want %g", var, 25.0 / 12);
    ck_assert_msg(lo < -1.999 && hi > 2.999, "range [%g, %g] does not fill [-2, 3)", lo, hi);
    /* 10 equal bins: chi-square with 9 dof; 40 is far past its 0.9999 quantile (33.7) */
    int64_t bins[10] = {0};
    for (int64_t i = 0; i < n; i++) {
        int b = (int)((x[i] + 2.f) / 5.f * 10.f);
        bins[b < 10 ? b : 9]++;
    }
    double chi2 = 0;
    for (int b = 0; b < 10; b++) chi2 += (bins[b] - n / 10.0) * (bins[b] - n / 10.0) / (n / 10.0);
    ck_assert_msg(chi2 < 40, "uniform histogram chi-square %g", chi2);
    free(x);
}
END_TEST

START_TEST(normal_moments) {
    const int64_t n = 1000000;
    float *x = malloc((size_t)n * sizeof *x);
    vt_rng r;
    vt_rng_init(&r, 4);
    vt_rng_normal(&r, x, n, 0.5f, 2.f);
    ck_assert_int_eq(r.offset, n);
    double s = 0, s2 = 0, s4 = 0;
    int64_t within1 = 0;
    for (int64_t i = 0; i < n; i++) {
        ck_assert_msg(isfinite(x[i]), "x[%lld] = %g", (long long)i, (double)x[i]);
        double z = (x[i] - 0.5) / 2.0;
        s += x[i];
        s2 += z * z;
        s4 += z * z * z * z;
        within1 += fabs(z) < 1.0;
    }
    double mean = s / n, var = s2 / n, kurt = s4 / n;
    ck_assert_msg(fabs(mean - 0.5) < 0.01, "mean %g, want 0.5 (5 sd = 0.01)", mean);
    ck_assert_msg(fabs(var - 1.0) < 0.008, "variance of z %g, want 1", var);
    ck_assert_msg(fabs(kurt - 3.0) < 0.05, "kurtosis %g, want 3", kurt);
    ck_assert_msg(fabs((double)within1 / n - 0.682689) < 0.003, "P(|z| < 1) = %g",
                  (double)within1 / n);
    free(x);
}
END_TEST

/* n > the 65536 threshold of the parallel fill: 1 and 2 threads give the same bits */
START_TEST(draws_independent_of_thread_count) {
    const int64_t n = 200003;
    float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    int prev = omp_get_max_threads();
    for (int normal = 0; normal < 2; normal++) {
        vt_rng r;
        omp_set_num_threads(1);
        vt_rng_init(&r, 11);
        r.offset = 12345;
        if (normal) vt_rng_normal(&r, a, n, 0.f, 1.f); else vt_rng_uniform(&r, a, n, 0.f, 1.f);
        omp_set_num_threads(2);
        vt_rng_init(&r, 11);
        r.offset = 12345;
        if (normal) vt_rng_normal(&r, b, n, 0.f, 1.f); else vt_rng_uniform(&r, b, n, 0.f, 1.f);
        ck_assert_msg(memcmp(a, b, (size_t)n * sizeof *a) == 0, "%s draw depends on threads",
                      normal ? "normal" : "uniform");
    }
    omp_set_num_threads(prev);
    free(a);
    free(b);
}
END_TEST

static int is_permutation(const int64_t *p, int64_t n) {
    char *seen = calloc((size_t)n, 1);
    int ok = 1;
    for (int64_t i = 0; i < n && ok; i++) {
        ok = p[i] >= 0 && p[i] < n && !seen[p[i]];
        if (ok) seen[p[i]] = 1;
    }
    free(seen);
    return ok;
}

START_TEST(permutation_is_a_seeded_permutation) {
    enum { n = 1000 };
    static int64_t a[n], b[n], c[n];
    vt_rng r;
    vt_rng_init(&r, 8);
    vt_rng_permutation(&r, a, n);
    ck_assert(is_permutation(a, n));
    ck_assert_int_eq(r.offset, 2 * (n - 1)); /* two u32 per swap */
    vt_rng_init(&r, 8);
    vt_rng_permutation(&r, b, n);
    ck_assert_msg(memcmp(a, b, sizeof a) == 0, "same seed, different permutations");
    vt_rng_init(&r, 9);
    vt_rng_permutation(&r, c, n);
    ck_assert(is_permutation(c, n));
    int64_t fixed = 0, differ = 0;
    for (int i = 0; i < n; i++) { fixed += a[i] == i; differ += a[i] != c[i]; }
    ck_assert_msg(differ > n / 2, "seeds 8 and 9 agree on %lld places", (long long)(n - differ));
    ck_assert_msg(fixed < 10, "%lld fixed points (expected about 1)", (long long)fixed);
    /* every position sees every value about equally often (tiny n, many draws) */
    int64_t count[4][4] = {{0}}, p[4];
    for (int t = 0; t < 24000; t++) {
        vt_rng_permutation(&r, p, 4);
        ck_assert(is_permutation(p, 4));
        for (int i = 0; i < 4; i++) count[i][p[i]]++;
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            ck_assert_msg(llabs(count[i][j] - 6000) < 400, "position %d holds %d %lld times of 24000",
                          i, j, (long long)count[i][j]);
    int64_t one = 7;
    vt_rng_permutation(&r, &one, 1);
    ck_assert_int_eq(one, 0);
}
END_TEST

/* Pins the exact algorithm: Fisher-Yates from the end, j = (x * (i + 1)) >> 64 with x the
 * first u32 draw as high word and the second as low word. rng.c writes this as
 * `(u32(r) << 32) | u32(r)`, whose two calls C leaves unordered; gcc and clang call the
 * left one first today. Should a compiler differ, shuffles would change silently across
 * builds: this test catches it. */
START_TEST(permutation_matches_reference_algorithm) {
    enum { n = 50 };
    int64_t got[n], want[n];
    vt_rng r;
    vt_rng_init(&r, 21);
    r.offset = 1000;
    vt_rng_permutation(&r, got, n);
    uint64_t ctr = 1000;
    for (int64_t i = 0; i < n; i++) want[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        uint64_t hi = vt_philox(21, ctr++).v[0], lo = vt_philox(21, ctr++).v[0];
        uint64_t x = hi << 32 | lo;
        int64_t j = (int64_t)(((unsigned __int128)x * (uint64_t)(i + 1)) >> 64);
        int64_t t = want[i]; want[i] = want[j]; want[j] = t;
    }
    for (int i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "position %d: %lld, want %lld", i, (long long)got[i],
                      (long long)want[i]);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/rng");
    TCase *tc = tcase_create("philox");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reference_philox_matches_known_answers);
    tcase_add_test(tc, vt_philox_matches_known_answer_and_reference);
    tcase_add_test(tc, uniform_uses_one_counter_per_element);
    tcase_add_test(tc, uniform_range_and_moments);
    tcase_add_test(tc, normal_moments);
    tcase_add_test(tc, draws_independent_of_thread_count);
    tcase_add_test(tc, permutation_is_a_seeded_permutation);
    tcase_add_test(tc, permutation_matches_reference_algorithm);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
