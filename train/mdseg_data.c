/* mdseg_data.c: the multi-domain data set (phantom domains concatenated, grouped by domain)
 * and the balanced cross-domain batch sampler (see mdseg.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mdseg.h"

int vt_mdseg_parse_domains(const char *list, int *phantom) {
    if (!list || !*list) { vt_error("mdseg: empty domain list (use e.g. \"ct,mr,xray\")"); return -1; }
    int n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ') e++;
        int found = -1;
        for (int d = 0; d < VT_BONE_N_DOMAINS; d++)
            if (strlen(vt_bone_domain_names[d]) == (size_t)(e - p) && !strncmp(p, vt_bone_domain_names[d], (size_t)(e - p)))
                found = d;
        if (found < 0) { vt_error("mdseg: unknown domain '%.*s' (known: ct, mr, xray)", (int)(e - p), p); return -1; }
        for (int k = 0; k < n; k++)
            if (phantom[k] == found) { vt_error("mdseg: domain '%s' listed twice", vt_bone_domain_names[found]); return -1; }
        if (n == VT_MDSEG_MAX_DOMAINS) { vt_error("mdseg: more than %d domains", VT_MDSEG_MAX_DOMAINS); return -1; }
        phantom[n++] = found;
        p = e;
    }
    if (!n) { vt_error("mdseg: empty domain list (use e.g. \"ct,mr,xray\")"); return -1; }
    return n;
}

void vt_mdseg_data_free(vt_mdseg_data *d) {
    if (!d) return;
    vt_tensor_free(d->images);
    vt_tensor_free(d->masks);
    free(d->domain);
    memset(d, 0, sizeof *d);
}

vt_status vt_mdseg_data_make(const int *phantom, int n_domains, int64_t n_per_domain, int size,
                             uint64_t seed, vt_mdseg_data *out) {
    memset(out, 0, sizeof *out);
    if (n_domains < 1 || n_domains > VT_MDSEG_MAX_DOMAINS || n_per_domain < 1)
        return vt_error("mdseg data: %d domains (1..%d) x %lld images (>= 1)", n_domains, VT_MDSEG_MAX_DOMAINS, (long long)n_per_domain);
    int64_t n = n_per_domain * n_domains, plane = (int64_t)size * size;
    out->n_domains = n_domains;
    out->n = n;
    out->images = vt_tensor_new(VT_DIMS(n, 1, size, size));
    out->masks = vt_tensor_new(VT_DIMS(n, 1, size, size));
    out->domain = malloc(sizeof(int) * (size_t)n);
    if (!out->images || !out->masks || !out->domain) { vt_mdseg_data_free(out); return vt_error("mdseg data: out of memory"); }
    for (int d = 0; d < n_domains; d++) {
        out->phantom[d] = phantom[d];
        snprintf(out->name[d], sizeof out->name[d], "%s", vt_bone_domain_names[phantom[d]]);
        vt_tensor *im = NULL, *mk = NULL;
        if (vt_phantom_bone_make(phantom[d], n_per_domain, size, seed, &im, &mk) != VT_OK) { vt_mdseg_data_free(out); return VT_ERR; }
        memcpy(out->images->data + d * n_per_domain * plane, im->data, sizeof(float) * (size_t)(n_per_domain * plane));
        memcpy(out->masks->data + d * n_per_domain * plane, mk->data, sizeof(float) * (size_t)(n_per_domain * plane));
        vt_tensor_free(im);
        vt_tensor_free(mk);
        for (int64_t i = 0; i < n_per_domain; i++) out->domain[d * n_per_domain + i] = d;
    }
    return VT_OK;
}

void vt_mdseg_sampler_free(vt_mdseg_sampler *s) {
    for (int d = 0; d < VT_MDSEG_MAX_DOMAINS; d++) free(s->members[d]);
    memset(s, 0, sizeof *s);
}

vt_status vt_mdseg_sampler_init(vt_mdseg_sampler *s, const int *domain, int64_t n, int n_domains,
                                int batch, uint64_t seed) {
    memset(s, 0, sizeof *s);
    if (n_domains < 1 || n_domains > VT_MDSEG_MAX_DOMAINS) return vt_error("mdseg sampler: %d domains (1..%d)", n_domains, VT_MDSEG_MAX_DOMAINS);
    if (batch < n_domains || batch % n_domains)
        return vt_error("mdseg sampler: batch %d must be a positive multiple of the %d domains (equal samples per domain)", batch, n_domains);
    s->n_domains = n_domains;
    s->per_domain = batch / n_domains;
    for (int64_t i = 0; i < n; i++) {
        if (domain[i] < 0 || domain[i] >= n_domains) return vt_error("mdseg sampler: sample %lld has domain %d, not in [0, %d)", (long long)i, domain[i], n_domains);
        s->count[domain[i]]++;
    }
    for (int d = 0; d < n_domains; d++) {
        if (!s->count[d]) return vt_error("mdseg sampler: domain %d has no samples", d);
        if (!(s->members[d] = malloc(sizeof(int64_t) * (size_t)s->count[d]))) { vt_mdseg_sampler_free(s); return vt_error("mdseg sampler: out of memory"); }
        s->count[d] = 0;
    }
    for (int64_t i = 0; i < n; i++) s->members[domain[i]][s->count[domain[i]]++] = i;
    vt_rng_init(&s->rng, seed);
    for (int d = 0; d < n_domains; d++) s->cursor[d] = s->count[d]; /* shuffle on first use */
    return VT_OK;
}

int64_t vt_mdseg_sampler_steps(const vt_mdseg_sampler *s) {
    int64_t m = 0;
    for (int d = 0; d < s->n_domains; d++) if (s->count[d] > m) m = s->count[d];
    return (m + s->per_domain - 1) / s->per_domain;
}

/* Fisher-Yates over the members with the sampler's stream */
static void shuffle(vt_mdseg_sampler *s, int d) {
    int64_t n = s->count[d], *perm = malloc(sizeof(int64_t) * (size_t)n), *tmp = malloc(sizeof(int64_t) * (size_t)n);
    if (perm && tmp) {
        vt_rng_permutation(&s->rng, perm, n);
        for (int64_t i = 0; i < n; i++) tmp[i] = s->members[d][perm[i]];
        memcpy(s->members[d], tmp, sizeof(int64_t) * (size_t)n);
    }
    free(perm);
    free(tmp);
    s->cursor[d] = 0;
}

void vt_mdseg_sampler_next(vt_mdseg_sampler *s, int64_t *idx) {
    for (int d = 0; d < s->n_domains; d++)
        for (int k = 0; k < s->per_domain; k++) {
            if (s->cursor[d] >= s->count[d]) shuffle(s, d);
            idx[d * s->per_domain + k] = s->members[d][s->cursor[d]++];
        }
}
