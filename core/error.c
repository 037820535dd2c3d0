/* error.c: the thread's last error message (vt_last_error). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "vertebra.h"

static _Thread_local char err_buf[1024];

const char *vt_last_error(void) { return err_buf[0] ? err_buf : "no error"; }

void vt_clear_error(void) { err_buf[0] = 0; }

/* Formats into a scratch buffer first: callers often wrap the previous message,
 * vt_error("load %s: %s", path, vt_last_error()), and vsnprintf must not write into the
 * buffer it is reading from. */
vt_status vt_error(const char *fmt, ...) {
    char tmp[sizeof err_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(err_buf, tmp, sizeof err_buf);
    return VT_ERR;
}
