output "masters" {
  value = { for name, n in local.nodes : name => n.ip if n.group == "masters" }
}

output "workers" {
  value = { for name, n in local.nodes : name => n.ip if n.group == "workers" }
}
