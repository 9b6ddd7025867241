/* SPDX-License-Identifier: MIT */
#include "util/utf8.h"

/* The UTF-8 sequence at str (str[0] != '\0'): its length and whether it is well-formed (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF). An ill-formed one is its maximal
 * subpart (Unicode §3.9), the bytes that one U+FFFD stands for. Never reads past a '\0'. */
size_t utf8_sequence(const char *str, bool *ret_valid) {
        const unsigned char *s = (const unsigned char *) str;
        unsigned char lo = 0x80, hi = 0xbf;
        size_t need, i;

        if (s[0] < 0x80) {
                *ret_valid = true;
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                need = 1;
        else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                need = 2;
                lo = s[0] == 0xe0 ? 0xa0 : 0x80; /* overlong */
                hi = s[0] == 0xed ? 0x9f : 0xbf; /* surrogates */
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                need = 3;
                lo = s[0] == 0xf0 ? 0x90 : 0x80; /* overlong */
                hi = s[0] == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
        } else {
                *ret_valid = false; /* a stray continuation byte, C0, C1, F5-FF */
                return 1;
        }

        for (i = 1; i <= need; i++) {
                if (s[i] < lo || s[i] > hi) /* '\0' too */
                        break;
                lo = 0x80;
                hi = 0xbf;
        }
        *ret_valid = i > need;
        return i;
}
