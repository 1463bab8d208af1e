# Seed 003: K3s on Proxmox VE. VMs cloned from a cloud-init template with static addresses,
# an INI inventory rendered from a template (as the seed's Terraform wrote
# ansible/inventory/hosts.ini), then Drover configures them (../modules/drover).
#   terraform init && terraform apply
terraform {
  required_version = ">= 1.4"
  required_providers {
    proxmox = { source = "bpg/proxmox", version = "~> 0.66" }
    local   = { source = "hashicorp/local", version = "~> 2.5" }
    random  = { source = "hashicorp/random", version = "~> 3.6" }
  }
}

provider "proxmox" {
  endpoint = var.proxmox_endpoint
  # Credentials from the environment: PROXMOX_VE_API_TOKEN (never in .tf files).
}

locals {
  nodes = {
    "k3s-master-1" = { ip = "192.168.1.101", group = "masters", cores = 2, memory = 4096 }
    "k3s-worker-1" = { ip = "192.168.1.111", group = "workers", cores = 2, memory = 4096 }
    "k3s-worker-2" = { ip = "192.168.1.112", group = "workers", cores = 2, memory = 4096 }
  }
}

resource "proxmox_virtual_environment_vm" "node" {
  for_each  = local.nodes
  name      = each.key
  node_name = var.proxmox_node

  clone {
    vm_id = var.template_vm_id
  }

  agent {
    enabled = true # QEMU guest agent, as in the seed
  }

  cpu {
    cores = each.value.cores
    type  = "host"
  }

  memory {
    dedicated = each.value.memory
  }

  disk {
    datastore_id = var.datastore
    interface    = "scsi0"
    size         = 32
    iothread     = true
  }

  network_device {
    bridge = var.bridge
  }

  initialization {
    ip_config {
      ipv4 {
        address = "${each.value.ip}/24"
        gateway = var.gateway
      }
    }
    user_account {
      username = var.vm_user
      keys     = [var.ssh_public_key]
    }
  }
}

# The seed's hosts.ini, rendered by Terraform.
resource "local_file" "inventory" {
  filename        = "${path.module}/generated/hosts.ini"
  file_permission = "0644"
  content = templatefile("${path.module}/hosts.ini.tftpl", {
    masters = { for name, n in local.nodes : name => n.ip if n.group == "masters" }
    workers = { for name, n in local.nodes : name => n.ip if n.group == "workers" }
    user    = var.vm_user
  })
}

resource "random_password" "k3s_token" {
  length  = 48
  special = false
}

resource "local_sensitive_file" "secrets" {
  filename        = "${path.module}/generated/secrets.yaml"
  file_permission = "0600"
  content         = yamlencode({ k3s_token = random_password.k3s_token.result })
}

module "drover" {
  source           = "../modules/drover"
  drover_dir       = var.drover_dir != "" ? var.drover_dir : abspath("${path.module}/../../..")
  inventory        = abspath(local_file.inventory.filename)
  playbook         = var.playbook
  secret_vars_file = abspath(local_sensitive_file.secrets.filename)
  extra_vars       = { base_timezone = var.timezone }
  cluster_id       = join(",", sort([for vm in proxmox_virtual_environment_vm.node : vm.id]))
  triggers = {
    vms       = join(",", sort([for vm in proxmox_virtual_environment_vm.node : vm.id]))
    inventory = sha256(local_file.inventory.content)
    token     = sha256(random_password.k3s_token.result)
    playbook  = var.playbook
  }
}
