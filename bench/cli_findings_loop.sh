#!/usr/bin/env bash
# The aws CLI way to what `gdctl findings` reports: list the regions, then per
# region its detector and its active findings counted by severity (the same
# criteria as gdctl's: not archived, not samples).
set -euo pipefail
criteria='{"Criterion": {"service.archived": {"Equals": ["false"]},
                         "service.additionalInfo.sample": {"NotEquals": ["true"]}}}'
regions=$(aws ec2 describe-regions \
  --query "Regions[?OptInStatus!='not-opted-in'].RegionName" --output text)
for r in $regions; do
  case "$r" in cn-*|us-gov-*) continue ;; esac   # AWS would not list these (moto does)
  detector=$(aws guardduty list-detectors --region "$r" --query 'DetectorIds[0]' --output text)
  if [ "$detector" = "None" ]; then
    echo "$r: not watched"
    continue
  fi
  counts=$(aws guardduty get-findings-statistics --detector-id "$detector" --group-by SEVERITY \
    --order-by DESC --max-results 100 --finding-criteria "$criteria" --region "$r" \
    --query 'FindingStatistics.GroupedBySeverity[].[Severity, TotalFindings]' --output text)
  echo "$r: $(echo "$counts" | tr '\t\n' '= ' | sed 's/ $//')"
done
