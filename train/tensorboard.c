/* tensorboard.c: TFRecord event files with hand-encoded Event protobufs (tensorboard.h). */
#include "tensorboard.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct vt_tb_writer {
    FILE *f;
    char *path;
    int failed;
};

/* ---- CRC-32C, table driven (zlib's crc32 uses the other polynomial, 0xEDB88320) ------- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc_table[i] = c;
    }
}

uint32_t vt_crc32c(uint32_t crc, const void *data, size_t n) {
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t masked_crc(const void *data, size_t n) {
    uint32_t c = vt_crc32c(0, data, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

/* ---- protobuf encoding ---------------------------------------------------------------- */

typedef struct pb {
    uint8_t *p;
    size_t n, cap;
} pb;

static int pb_put(pb *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = (b->cap + n) * 2 + 64;
        uint8_t *g = realloc(b->p, cap);
        if (!g) return 0;
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    return 1;
}

static int pb_varint(pb *b, uint64_t v) {
    uint8_t tmp[10];
    int n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    return pb_put(b, tmp, (size_t)n);
}

static int pb_le(pb *b, uint64_t v, int bytes) {
    uint8_t tmp[8];
    for (int i = 0; i < bytes; i++) tmp[i] = (uint8_t)(v >> (8 * i));
    return pb_put(b, tmp, (size_t)bytes);
}

/* field with wire type 2 (length delimited) */
static int pb_bytes(pb *b, int field, const void *data, size_t n) {
    return pb_varint(b, (uint64_t)field << 3 | 2) && pb_varint(b, n) && pb_put(b, data, n);
}

static int pb_double(pb *b, int field, double x) {
    uint64_t bits;
    memcpy(&bits, &x, 8);
    return pb_varint(b, (uint64_t)field << 3 | 1) && pb_le(b, bits, 8);
}

static int pb_float(pb *b, int field, float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    return pb_varint(b, (uint64_t)field << 3 | 5) && pb_le(b, bits, 4);
}

/* Event{wall_time, step, file_version | summary{value{tag, simple_value}}} */
static int encode_event(pb *ev, double wall, int64_t step, const char *version, const char *tag, float value) {
    if (!pb_double(ev, 1, wall) || !pb_varint(ev, 2 << 3 | 0) || !pb_varint(ev, (uint64_t)step)) return 0;
    if (version) return pb_bytes(ev, 3, version, strlen(version));
    pb val = {0}, sum = {0};
    int ok = pb_bytes(&val, 1, tag, strlen(tag)) && pb_float(&val, 2, value) && pb_bytes(&sum, 1, val.p, val.n) &&
             pb_bytes(ev, 5, sum.p, sum.n);
    free(val.p);
    free(sum.p);
    return ok;
}

/* ---- records -------------------------------------------------------------------------- */

static vt_status write_record(vt_tb_writer *w, const pb *ev) {
    uint8_t head[12];
    uint64_t len = ev->n;
    for (int i = 0; i < 8; i++) head[i] = (uint8_t)(len >> (8 * i));
    uint32_t hc = masked_crc(head, 8), dc = masked_crc(ev->p, ev->n);
    for (int i = 0; i < 4; i++) head[8 + i] = (uint8_t)(hc >> (8 * i));
    uint8_t tail[4];
    for (int i = 0; i < 4; i++) tail[i] = (uint8_t)(dc >> (8 * i));
    if (fwrite(head, 1, 12, w->f) != 12 || fwrite(ev->p, 1, ev->n, w->f) != ev->n || fwrite(tail, 1, 4, w->f) != 4 ||
        fflush(w->f) != 0) {
        w->failed = 1;
        return vt_error("%s: write failed: %s", w->path, strerror(errno));
    }
    return VT_OK;
}

static double wall_now(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

vt_tb_writer *vt_tb_open(const char *dir) {
    if (!dir) return vt_error("tensorboard: NULL directory"), NULL;
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0]) strcpy(host, "localhost");
    host[sizeof host - 1] = 0;
    for (char *h = host; *h; h++)
        if (*h == '/') *h = '_';
    vt_tb_writer *w = calloc(1, sizeof *w);
    size_t cap = strlen(dir) + strlen(host) + 80;
    if (!w || !(w->path = malloc(cap))) return free(w), vt_error("tensorboard: out of memory"), NULL;
    double now = wall_now();
    /* exclusive create: a second writer in the same second gets a ".N" suffix
     * (TensorBoard reads every file whose name contains "tfevents") */
    for (int k = 0; k < 100 && !w->f; k++) {
        if (k == 0) snprintf(w->path, cap, "%s/events.out.tfevents.%lld.%s", dir, (long long)now, host);
        else snprintf(w->path, cap, "%s/events.out.tfevents.%lld.%s.%d", dir, (long long)now, host, k);
        int fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) break;
        w->f = fdopen(fd, "wb");
        if (!w->f) close(fd);
    }
    if (!w->f) {
        vt_error("%s: cannot create event file: %s", w->path, strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    pb ev = {0};
    vt_status st = encode_event(&ev, now, 0, "brain.Event:2", NULL, 0) ? write_record(w, &ev)
                                                                          : vt_error("tensorboard: out of memory");
    free(ev.p);
    if (st != VT_OK) {
        vt_tb_close(w);
        return NULL;
    }
    return w;
}

vt_status vt_tb_scalar_at(vt_tb_writer *w, const char *tag, int64_t step, float value, double wall_time) {
    if (!w || !tag) return vt_error("tensorboard: NULL writer or tag");
    size_t n = strlen(tag);
    if (n == 0 || n > VT_TB_MAX_TAG) return vt_error("tensorboard: tag length %zu not in 1..%d", n, VT_TB_MAX_TAG);
    pb ev = {0};
    vt_status st = encode_event(&ev, wall_time, step, NULL, tag, value) ? write_record(w, &ev)
                                                                       : vt_error("tensorboard: out of memory");
    free(ev.p);
    return st;
}

vt_status vt_tb_scalar(vt_tb_writer *w, const char *tag, int64_t step, float value) {
    return vt_tb_scalar_at(w, tag, step, value, wall_now());
}

const char *vt_tb_path(const vt_tb_writer *w) { return w ? w->path : NULL; }

vt_status vt_tb_close(vt_tb_writer *w) {
    if (!w) return VT_OK;
    vt_status st = VT_OK;
    if (fclose(w->f) != 0 || w->failed) st = vt_error("%s: write failed", w->path);
    free(w->path);
    free(w);
    return st;
}
