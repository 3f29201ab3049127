#!/bin/sh
# After the Temporal server is up: creates the connector's namespace if it is missing, keeps closed workflows (the
# audit trail) for AUDIT_RETENTION, and registers the search attributes the connector writes
# (src/workflows/searchAttributes.ts). Safe to run on every start: what exists is left alone. Used by
# docker-compose.yml (service `temporal-setup`) and `npm run cluster`; the `temporal` CLI reads TEMPORAL_ADDRESS and,
# on a cluster with TLS, TEMPORAL_TLS_* from the environment.
set -eu

namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${AUDIT_RETENTION:-720h}"

tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 100 ]; then
    echo "Temporal at ${TEMPORAL_ADDRESS:-?} is not serving after $tries attempts:" >&2
    temporal operator cluster health >&2 || true
    exit 1
  fi
  echo "waiting for Temporal at ${TEMPORAL_ADDRESS:-?}..."
  sleep 3
done

if temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  temporal operator namespace update --namespace "$namespace" --retention "$retention"
else
  temporal operator namespace create --namespace "$namespace" --retention "$retention"
fi

# A namespace just created reaches every frontend's cache within seconds; until then it is "not found".
tries=0
until registered="$(temporal operator search-attribute list --namespace "$namespace" 2>&1)"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "namespace $namespace is not usable: $registered" >&2
    exit 1
  fi
  sleep 2
done
for attribute in SyncConnection=Keyword SyncEntity=Keyword SyncSourceId=Keyword SyncTargetId=Keyword SyncOutcome=Keyword SyncSourceIds=KeywordList; do
  name="${attribute%%=*}"
  type="${attribute#*=}"
  if printf '%s\n' "$registered" | grep -qw "$name"; then
    echo "search attribute $name already registered"
  else
    temporal operator search-attribute create --namespace "$namespace" --name "$name" --type "$type"
  fi
done
echo "Temporal is ready for the connector."
