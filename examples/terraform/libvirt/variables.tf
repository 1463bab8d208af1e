variable "libvirt_uri" {
  type    = string
  default = "qemu:///system"
}

variable "pool" {
  type    = string
  default = "default"
}

variable "base_image" {
  description = "A cloud image with cloud-init (Debian 12 genericcloud; Flatcar needs Ignition instead)."
  type        = string
  default     = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
}

variable "admin_user" {
  type    = string
  default = "debian"
}

variable "ssh_public_key" {
  type = string
}

variable "api_vip" {
  type    = string
  default = "192.168.0.32"
}

variable "web_vip" {
  type    = string
  default = "192.168.0.33"
}

variable "timezone" {
  type    = string
  default = "Europe/Madrid"
}

variable "drover_dir" {
  description = "The Drover project folder; empty: this repository."
  type        = string
  default     = ""
}
