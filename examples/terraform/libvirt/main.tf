# Seeds 002/004 (FlatcarMicroCloud): KVM/libvirt VMs for an HA K3s cluster behind an
# HAProxy + Keepalived pair, then Drover configures them (../modules/drover).
#   terraform init && terraform apply -var ssh_public_key="$(cat ~/.ssh/id_ed25519.pub)"
terraform {
  required_version = ">= 1.4"
  required_providers {
    libvirt = { source = "dmacvicar/libvirt", version = "~> 0.8" }
    local   = { source = "hashicorp/local", version = "~> 2.5" }
    random  = { source = "hashicorp/random", version = "~> 3.6" }
  }
}

provider "libvirt" {
  uri = var.libvirt_uri
}

locals {
  # name => where it lives and what it is; the inventory groups are the seed's.
  nodes = {
    loadbalancer1 = { ip = "192.168.0.30", network = "br0", group = "loadbalancers", vcpu = 1, memory = 512, disk_gb = 30 }
    loadbalancer2 = { ip = "192.168.0.31", network = "br0", group = "loadbalancers", vcpu = 1, memory = 512, disk_gb = 30 }
    infra         = { ip = "10.17.3.11", network = "kube_network_02", group = "infra", vcpu = 1, memory = 512, disk_gb = 32 }
    postgresql1   = { ip = "10.17.3.14", network = "kube_network_02", group = "databases", vcpu = 2, memory = 1024, disk_gb = 32 }
    master1       = { ip = "10.17.4.21", network = "kube_network_03", group = "masters", vcpu = 2, memory = 2048, disk_gb = 50 }
    master2       = { ip = "10.17.4.22", network = "kube_network_03", group = "masters", vcpu = 2, memory = 2048, disk_gb = 50 }
    master3       = { ip = "10.17.4.23", network = "kube_network_03", group = "masters", vcpu = 2, memory = 2048, disk_gb = 50 }
    worker1       = { ip = "10.17.4.24", network = "kube_network_03", group = "workers", vcpu = 3, memory = 8192, disk_gb = 20 }
    worker2       = { ip = "10.17.4.25", network = "kube_network_03", group = "workers", vcpu = 3, memory = 8192, disk_gb = 20 }
    worker3       = { ip = "10.17.4.26", network = "kube_network_03", group = "workers", vcpu = 3, memory = 8192, disk_gb = 20 }
  }
  gateways = { br0 = "192.168.0.1", kube_network_02 = "10.17.3.1", kube_network_03 = "10.17.4.1" }
  groups   = distinct([for n in local.nodes : n.group])
}

resource "libvirt_network" "kube_network_02" {
  name      = "kube_network_02"
  mode      = "nat"
  autostart = true
  addresses = ["10.17.3.0/24"]
}

resource "libvirt_network" "kube_network_03" {
  name      = "kube_network_03"
  mode      = "nat"
  autostart = true
  addresses = ["10.17.4.0/24"]
}

resource "libvirt_volume" "base" {
  name   = "debian-12-genericcloud-amd64.qcow2"
  pool   = var.pool
  source = var.base_image
  format = "qcow2"
}

resource "libvirt_volume" "root" {
  for_each       = local.nodes
  name           = "${each.key}.qcow2"
  pool           = var.pool
  base_volume_id = libvirt_volume.base.id
  size           = each.value.disk_gb * 1024 * 1024 * 1024
}

resource "libvirt_cloudinit_disk" "init" {
  for_each = local.nodes
  name     = "${each.key}-cloudinit.iso"
  pool     = var.pool
  user_data = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    hostname       = each.key
    admin_user     = var.admin_user
    ssh_public_key = var.ssh_public_key
  })
  network_config = templatefile("${path.module}/network.yaml.tftpl", {
    address = each.value.ip
    gateway = local.gateways[each.value.network]
  })
}

resource "libvirt_domain" "node" {
  for_each  = local.nodes
  name      = each.key
  vcpu      = each.value.vcpu
  memory    = each.value.memory
  cloudinit = libvirt_cloudinit_disk.init[each.key].id

  disk {
    volume_id = libvirt_volume.root[each.key].id
  }

  network_interface {
    # br0 is the host's own bridge to the LAN; the two NAT networks are libvirt's.
    network_name   = each.value.network == "br0" ? null : each.value.network
    bridge         = each.value.network == "br0" ? "br0" : null
    addresses      = [each.value.ip]
    wait_for_lease = false
  }

  depends_on = [libvirt_network.kube_network_02, libvirt_network.kube_network_03]
}

# The inventory Drover reads: rendered by Terraform, Ansible's YAML format.
resource "local_file" "inventory" {
  filename        = "${path.module}/generated/hosts.yaml"
  file_permission = "0644"
  content = yamlencode({
    all = {
      vars = {
        ansible_user = var.admin_user
        api_vip      = var.api_vip
        web_vip      = var.web_vip
      }
      children = merge(
        { for g in local.groups : g => { hosts = { for name, n in local.nodes : name => { ansible_host = n.ip } if n.group == g } } },
        { k3s_cluster = { children = { masters = {}, workers = {} } } },
      )
    }
  })
}

resource "random_password" "secret" {
  for_each = toset(["k3s_token", "haproxy_stats_password", "keepalived_auth_pass", "postgres_replication_password"])
  length   = each.key == "keepalived_auth_pass" ? 8 : 32 # VRRP PASS auth reads 8 characters
  special  = false
}

# Secrets reach Drover as -e @file (0600), never through a command line.
resource "local_sensitive_file" "secrets" {
  filename        = "${path.module}/generated/secrets.yaml"
  file_permission = "0600"
  content         = yamlencode({ for k, p in random_password.secret : k => p.result })
}

module "drover" {
  source           = "../modules/drover"
  drover_dir       = var.drover_dir != "" ? var.drover_dir : abspath("${path.module}/../../..")
  inventory        = abspath(local_file.inventory.filename)
  playbook         = "playbooks/site.ts"
  secret_vars_file = abspath(local_sensitive_file.secrets.filename)
  extra_vars       = { base_timezone = var.timezone }
  cluster_id       = join(",", sort([for d in libvirt_domain.node : d.id]))
  triggers = {
    vms       = join(",", sort([for d in libvirt_domain.node : d.id]))
    inventory = sha256(local_file.inventory.content)
    secrets   = sha256(local_sensitive_file.secrets.content)
    timezone  = var.timezone
  }
}
