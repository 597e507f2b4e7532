#!/usr/bin/env bash
# Provisions infra/main.bicep with the Azure CLI, then uploads the package npm run package builds
# (production dependencies only) with zip deploy.
# Usage: npm run deploy -- <environment name> <location> [more az deployment parameters...]
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?Give an environment name, e.g. npm run deploy -- contoso-leads westeurope}"
location="${2:?Give an Azure region, e.g. westeurope}"
shift 2
for tool in az; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed: see docs/DEPLOY.md, Prerequisites." >&2; exit 1; }
done
principal="$(az ad signed-in-user show --query id -o tsv 2>/dev/null || true)"
app="$(az deployment sub create --name "$name" --location "$location" --template-file infra/main.bicep \
  --parameters environmentName="$name" location="$location" deployerPrincipalId="$principal" "$@" \
  --query properties.outputs.AZURE_FUNCTION_APP_NAME.value -o tsv)"
npm run package
az functionapp deployment source config-zip --resource-group "rg-$name" --name "$app" --src dist/marketplace-leads.zip
echo "Deployed. Your HTTPS endpoint: https://$(az functionapp show --name "$app" --resource-group "rg-$name" --query defaultHostName -o tsv)/api/leads?code=<function key>"
