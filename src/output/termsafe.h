/* dumpsleuth: terminal-safe output. Strings from a dump (module paths, comments, thread names)
 * are attacker-controlled; printed raw, an escape sequence in them would drive the user's
 * terminal. The CLI routes stdout and stderr through this filter. */
#ifndef DS_OUTPUT_TERMSAFE_H
#define DS_OUTPUT_TERMSAFE_H

#include <stdio.h>

/* A stream that writes to `under`, replacing C0 control bytes other than \n, \t and \r, DEL, and
 * UTF-8-encoded C1 controls (U+0080..U+009F) by '?'. Returns NULL when it cannot be created
 * (then the caller keeps `under`). Every flush of the returned stream also flushes `under`. */
FILE *ds_termsafe_open(FILE *under);

#endif
