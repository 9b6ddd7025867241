/* SPDX-License-Identifier: MIT */
#pragma once

#include "util/macro.h"

/* Appends the formatted text to *s (NULL: empty), reallocating it. -ENOMEM, *s unchanged. */
int strextendf(char **s, const char *format, ...) _printf_(2, 3);

/* "<dir>/<name>" with dir's trailing slashes dropped ("/" and "x" make "/x"). -ENOMEM or 0. */
int path_join(const char *dir, const char *name, char **ret);
