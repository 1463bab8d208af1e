variable "proxmox_endpoint" {
  type    = string
  default = "https://proxmox.lan:8006/"
}

variable "proxmox_node" {
  type    = string
  default = "pve"
}

variable "template_vm_id" {
  description = "A VM template with cloud-init and the QEMU guest agent."
  type        = number
  default     = 9000
}

variable "datastore" {
  type    = string
  default = "local-lvm"
}

variable "bridge" {
  type    = string
  default = "vmbr0"
}

variable "gateway" {
  type    = string
  default = "192.168.1.1"
}

variable "vm_user" {
  type    = string
  default = "ubuntu"
}

variable "ssh_public_key" {
  type = string
}

variable "timezone" {
  type    = string
  default = "Europe/Warsaw"
}

variable "playbook" {
  type    = string
  default = "playbooks/site.ts"
}

variable "drover_dir" {
  type    = string
  default = ""
}
