# Runs Drover from Terraform. Two resources, on purpose:
#   terraform_data.configure  re-created when var.triggers change: waits for the hosts, then
#                             runs the playbook (create-time provisioner only, so a change of
#                             vars never runs the reset);
#   terraform_data.cluster    lives as long as the cluster (var.cluster_id): its destroy-time
#                             provisioner runs the reset playbook when the cluster is destroyed,
#                             before the VMs it depends on go.
# Every value reaches the commands through `environment`; the commands are fixed text and
# interpolate nothing (a value with a quote or a `;` cannot change what runs). Secrets go in
# var.secret_vars_file (-e @file), never in an environment variable's argv expansion.
# Output is Drover's plain lines (no TTY under Terraform); a failed or unreachable host exits
# non-zero, which fails the apply.
terraform {
  required_version = ">= 1.4" # terraform_data
}

resource "terraform_data" "cluster" {
  input = {
    cluster_id     = var.cluster_id
    drover_dir     = var.drover_dir
    inventory      = var.inventory
    limit          = var.limit
    reset_playbook = var.reset_playbook
    reset_check    = var.reset_check_only ? "--check" : ""
  }

  provisioner "local-exec" {
    when        = destroy
    working_dir = self.input.drover_dir
    interpreter = ["/bin/sh", "-c"]
    environment = {
      DROVER_INVENTORY      = self.input.inventory
      DROVER_LIMIT          = self.input.limit
      DROVER_RESET_PLAYBOOK = self.input.reset_playbook
      DROVER_CHECK          = self.input.reset_check
    }
    command = <<-EOT
      set -eu
      if [ -z "$DROVER_RESET_PLAYBOOK" ]; then
        echo "drover: no reset playbook configured, nothing to undo"
        exit 0
      fi
      set -- -i "$DROVER_INVENTORY" --limit "$DROVER_LIMIT"
      if [ -n "$DROVER_CHECK" ]; then set -- "$@" --check; fi
      exec npx tsx "$DROVER_RESET_PLAYBOOK" "$@"
    EOT
  }
}

resource "terraform_data" "configure" {
  triggers_replace = var.triggers
  depends_on       = [terraform_data.cluster]

  provisioner "local-exec" {
    working_dir = var.drover_dir
    interpreter = ["/bin/sh", "-c"]
    environment = {
      DROVER_INVENTORY        = var.inventory
      DROVER_PLAYBOOK         = var.playbook
      DROVER_LIMIT            = var.limit
      DROVER_EXTRA_VARS       = jsonencode(var.extra_vars)
      DROVER_SECRET_VARS_FILE = var.secret_vars_file
      DROVER_WAIT_TIMEOUT     = var.wait_timeout
      DROVER_ACCEPT_NEW       = var.accept_new_host_keys ? "yes" : ""
    }
    command = <<-EOT
      set -eu
      set -- -i "$DROVER_INVENTORY"
      if [ -n "$DROVER_ACCEPT_NEW" ]; then set -- "$@" --accept-new-host-keys; fi
      npx tsx playbooks/wait-for-hosts.ts "$@" "$DROVER_LIMIT" --timeout "$DROVER_WAIT_TIMEOUT"
      set -- "$@" --limit "$DROVER_LIMIT" -e "$DROVER_EXTRA_VARS"
      if [ -n "$DROVER_SECRET_VARS_FILE" ]; then set -- "$@" -e "@$DROVER_SECRET_VARS_FILE"; fi
      exec npx tsx "$DROVER_PLAYBOOK" "$@"
    EOT
  }
}
