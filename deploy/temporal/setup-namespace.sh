#!/bin/sh
# The namespace the engine runs its cases in, and the case's custom search attributes
# (approval/search_attributes.py), registered once the Temporal server answers: the
# temporal-setup service of docker-compose.yml, in Temporal's admin-tools image. Safe to run
# again: a namespace or an attribute that exists is left as it is; an attribute that exists
# with another type is an error. The temporal CLI reads TEMPORAL_ADDRESS.
set -eu

namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${TEMPORAL_RETENTION:-3650d}"

tries=0
until temporal operator cluster health >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 90 ]; then
        echo "Temporal at ${TEMPORAL_ADDRESS:-?} does not answer" >&2
        exit 1
    fi
    sleep 2
done

if temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
    echo "namespace $namespace exists"
else
    temporal operator namespace create --namespace "$namespace" --retention "$retention" \
        --description "并联审批 parallel approval cases"
    echo "namespace $namespace created (retention $retention)"
fi

# attribute NAME TYPE: register it on the namespace, or leave it if it is there already. A
# namespace just created takes a few seconds to reach every part of the server: retried.
attribute() {
    tries=0
    while :; do
        if said=$(temporal operator search-attribute create --namespace "$namespace" \
            --name "$1" --type "$2" 2>&1); then
            echo "search attribute $1 ($2) on $namespace"
            return 0
        fi
        case "$said" in
            *"different type"*)
                echo "$said" >&2
                return 1
                ;;
            *"already exists"*)
                echo "search attribute $1 ($2) exists"
                return 0
                ;;
        esac
        tries=$((tries + 1))
        if [ "$tries" -ge 30 ]; then
            echo "$said" >&2
            return 1
        fi
        sleep 2
    done
}

attribute CaseStage Keyword
attribute MatterCode Keyword
attribute Departments KeywordList
attribute Centre Keyword
attribute Overdue Bool
attribute RedMarked Bool
attribute ReceivedAt Datetime
attribute CommittedCompletionAt Datetime
