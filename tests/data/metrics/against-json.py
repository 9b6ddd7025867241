# The metrics file against the JSON report of the same pass (issue 7: "values checked against
# the run's JSON report"): argv[1] the metrics file, argv[2] the JSON document. Exit 77 without
# prometheus_client, 1 with the differences on stderr.
import json
import sys
from collections import Counter

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit(77)

with open(sys.argv[1], encoding="utf-8") as f:
    metrics = {}
    for family in text_string_to_metric_families(f.read()):
        for s in family.samples:
            metrics[(s.name, tuple(sorted(s.labels.items())))] = s.value
with open(sys.argv[2], encoding="utf-8") as f:
    report = json.load(f)

errors = []


def expect(name, labels, want):
    got = metrics.get((name, tuple(sorted(labels.items()))))
    if got != want:
        errors.append("%s%s: metrics say %r, the report %r" % (name, labels, got, want))


summary = report["summary"]
actions = Counter((a["kind"], a["result"]) for a in report["actions"] if a["kind"] != "skip-pod")
series = {dict(l)["kind"] + "/" + dict(l)["result"] for (n, l) in metrics if n == "podreaper_actions"}
for kind, result in actions:
    if kind + "/" + result not in series:
        errors.append("podreaper_actions has no series for %s/%s" % (kind, result))
for kr in series:
    kind, result = kr.split("/")
    expect("podreaper_actions", {"kind": kind, "result": result}, actions[(kind, result)])
for result in ("done", "failed", "skipped", "planned"):
    got = sum(v for (n, l), v in metrics.items() if n == "podreaper_actions" and dict(l)["result"] == result)
    if got != summary[result]:
        errors.append("%s: metrics say %r, the summary %r" % (result, got, summary[result]))
refused = sum(v for (n, l), v in metrics.items() if n == "podreaper_refusals")
if refused != summary["refused"]:
    errors.append("refusals: metrics say %r, the summary %r" % (refused, summary["refused"]))
expect("podreaper_orphans", {}, summary["orphans"])
expect("podreaper_pod_level_blocked", {}, 0 if summary["blocked"] is False else 1)
expect("podreaper_breaker_tripped", {}, 0 if summary["breaker"] is False else 1)
deleted = report.get("deleted_pods")
verdicts = Counter(p["verdict"] for p in (deleted or {}).get("pods", []))
expect("podreaper_deleted_pods", {"state": "deleted"}, verdicts["deleted"])
expect("podreaper_deleted_pods", {"state": "grace"}, verdicts["grace"])
for (n, l), v in metrics.items():
    if n == "podreaper_deleted_rule_off":
        reason = dict(l)["reason"]
        expect(n, {"reason": reason}, 1 if deleted and deleted["rule"] == reason else 0)
for source, status in report["sources"].items():
    expect("podreaper_source_up", {"source": source}, 1 if status["ok"] else 0)

for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
