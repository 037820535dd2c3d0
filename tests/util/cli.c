/* cli.c: run the built vertebra program (or a shell script) from a test and capture its output. */
#include <stdlib.h>
#include <sys/wait.h>
#include "vt_test.h"

const char *vt_test_bin(void) { return getenv("VT_BIN") ? getenv("VT_BIN") : "build/vertebra"; }

int vt_test_shell(const char *cmd, char *out, size_t n) {
    char full[8192];
    int len = snprintf(full, sizeof full, "( %s ) 2>&1", cmd);
    ck_assert_msg(len > 0 && (size_t)len < sizeof full, "command too long: %s", cmd);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    size_t k = fread(out, 1, n - 1, p);
    out[k] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int vt_test_cli(const char *args, char *out, size_t n) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s", vt_test_bin(), args);
    return vt_test_shell(cmd, out, n);
}
