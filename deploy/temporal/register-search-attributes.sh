#!/bin/sh
# One-shot job of docker-compose.yml: waits for the Temporal server, keeps closed workflows (the audit trail) for
# AUDIT_RETENTION, and registers the search attributes the connector writes (src/workflows/searchAttributes.ts).
# Safe to run on every start: attributes already registered are left alone.
set -eu

namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${AUDIT_RETENTION:-720h}"

tries=0
until temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 100 ]; then
    echo "Temporal at ${TEMPORAL_ADDRESS:-?} has no namespace $namespace after $tries attempts" >&2
    exit 1
  fi
  echo "waiting for Temporal at ${TEMPORAL_ADDRESS:-?} and namespace $namespace..."
  sleep 3
done

temporal operator namespace update --namespace "$namespace" --retention "$retention"

registered="$(temporal operator search-attribute list --namespace "$namespace")"
for name in SyncConnection SyncEntity SyncSourceId SyncTargetId SyncOutcome; do
  if printf '%s\n' "$registered" | grep -qw "$name"; then
    echo "search attribute $name already registered"
  else
    temporal operator search-attribute create --namespace "$namespace" --name "$name" --type Keyword
  fi
done
echo "Temporal is ready for the connector."
