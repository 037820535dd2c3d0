/* error.c: the thread's last error message (vt_last_error). */
#include <stdarg.h>
#include <stdio.h>
#include "vertebra.h"

static _Thread_local char err_buf[1024];

const char *vt_last_error(void) { return err_buf[0] ? err_buf : "no error"; }

void vt_clear_error(void) { err_buf[0] = 0; }

vt_status vt_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return VT_ERR;
}
