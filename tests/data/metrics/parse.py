# The second opinion on a metrics file: prometheus_client's own parser (Debian
# python3-prometheus-client). Prints "TYPE|<family>|<type>" per family and
# "<sample>|<label>=<hex of the UTF-8 value>,...|<value>" per sample, labels sorted.
# Exit 77 when prometheus_client is not installed, 1 when it refuses the file.
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit(77)

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
try:
    for family in text_string_to_metric_families(text):
        print("TYPE|%s|%s" % (family.name, family.type))
        for s in family.samples:
            labels = ",".join("%s=%s" % (k, v.encode().hex()) for k, v in sorted(s.labels.items()))
            print("%s|%s|%r" % (s.name, labels, s.value))
except Exception as e:  # the parser raises ValueError and friends on a bad line
    print("prometheus_client refused the file: %r" % e, file=sys.stderr)
    sys.exit(1)
