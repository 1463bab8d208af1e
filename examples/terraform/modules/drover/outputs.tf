output "configured_id" {
  description = "Changes each time the playbook ran again."
  value       = terraform_data.configure.id
}
