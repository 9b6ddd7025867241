/* SPDX-License-Identifier: MIT */
#pragma once

/* journald MESSAGE_ID= of each kind of log line report_log_action() writes, so that
 * `journalctl MESSAGE_ID=...` and alerting on the journal find them whatever the text says. 128-bit
 * ids as sd-id128 prints them (32 lowercase hex), generated once with
 * `cat /proc/sys/kernel/random/uuid | tr -d -`: never change one, add a new one for a new event. */

#define PODREAPER_MESSAGE_ACTION_DONE "778811c7623b49e3899bbd5d324e58d0"
#define PODREAPER_MESSAGE_ACTION_FAILED "6b8de24116c8451da77f242afe83b8cc"
#define PODREAPER_MESSAGE_ACTION_SKIPPED "a0436e9c35da4fc0a0eb68beceffd706"   /* precondition gone */
#define PODREAPER_MESSAGE_REFUSAL "941c4321e9994c01bf690bc01a8ad366"          /* skip-pod */
#define PODREAPER_MESSAGE_ACTION_PLANNED "07e38fa771044aa6bdf483fdc62fdc60"   /* plan, --dry-run */
#define PODREAPER_MESSAGE_DELETED_POD "55c32bb303f64e968c7592942db6cc00"      /* a deleted pod found */
#define PODREAPER_MESSAGE_DELETED_RULE_OFF "a4e880be550b49e9b1b8234e1a0442a4" /* the deleted-pod rule off */
