variable "drover_dir" {
  description = "The Drover project folder (playbooks/, node_modules/): the working directory of every command."
  type        = string
}

variable "inventory" {
  description = "Inventory path (relative to drover_dir or absolute): a rendered file, or terraform output -json saved to a file."
  type        = string
}

variable "playbook" {
  description = "Playbook run after the hosts are up, e.g. playbooks/site.ts."
  type        = string
  default     = "playbooks/site.ts"
}

variable "limit" {
  description = "Host pattern the wait and the playbook are limited to."
  type        = string
  default     = "all"
}

variable "extra_vars" {
  description = "Non-secret extra vars (-e) as a map; passed as JSON through the environment."
  type        = any
  default     = {}
}

variable "secret_vars_file" {
  description = "Path of a 0600 YAML/JSON file with secret vars (tokens, passwords), passed as -e @file: never on a command line. Empty: none."
  type        = string
  default     = ""
}

variable "wait_timeout" {
  description = "Seconds to wait for SSH and cloud-init on fresh hosts before failing the apply."
  type        = number
  default     = 600
}

variable "accept_new_host_keys" {
  description = "Record the host keys of new VMs on first contact (a changed key is still refused)."
  type        = bool
  default     = true
}

variable "triggers" {
  description = "Re-run the playbook when any of these change (e.g. VM ids, sha256 of the inventory and of the vars)."
  type        = map(string)
  default     = {}
}

variable "cluster_id" {
  description = "What the cluster is (e.g. the joined VM ids): when it is destroyed, the reset playbook runs first."
  type        = string
}

variable "reset_playbook" {
  description = "Playbook run by terraform destroy before the VMs go, e.g. playbooks/k3s-reset.ts. Empty: none."
  type        = string
  default     = "playbooks/k3s-reset.ts"
}

variable "reset_check_only" {
  description = "Run the reset playbook with --check (report what it would remove, remove nothing)."
  type        = bool
  default     = false
}
