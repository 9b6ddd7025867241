/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The UTF-8 sequence at str (str[0] != '\0'): its length and whether it is well-formed (RFC 3629).
 * An ill-formed one is its maximal subpart (Unicode §3.9). Never reads past a '\0'. */
size_t utf8_sequence(const char *str, bool *ret_valid);
