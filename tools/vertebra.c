/* vertebra.c: the command-line program (commands are added as they land). */
#include <stdio.h>
#include <string.h>
#include "vertebra.h"

int main(int argc, char **argv) {
    fprintf(stderr, "usage: vertebra COMMAND ...\n");
    return 2;
}
