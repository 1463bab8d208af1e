# `terraform output -json > inventory.json` is also an inventory Drover reads (group per
# output: a map of host name to address), e.g. for a pipeline step after the apply:
#   terraform output -json > inventory.json && npx tsx playbooks/site.ts -i inventory.json
output "masters" {
  value = { for name, n in local.nodes : name => n.ip if n.group == "masters" }
}

output "workers" {
  value = { for name, n in local.nodes : name => n.ip if n.group == "workers" }
}

output "loadbalancers" {
  value = { for name, n in local.nodes : name => n.ip if n.group == "loadbalancers" }
}

output "inventory_file" {
  value = abspath(local_file.inventory.filename)
}
