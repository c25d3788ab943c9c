################################################################################
# The origin router and GPU pools: this region's kustomize overlay, applied
################################################################################

# The overlay from infra/k8s/overlays/<region>, plus what only Terraform knows: the model
# bucket and AWS region (for the pools' model-sync init containers), the router image's
# repository (the overlay pins only its tag) and pull secret, the signing keys (a generated
# Secret; its hash suffix rolls the router when the keys change) and the load balancer's source
# CIDR in the NetworkPolicy. Only this applies an overlay: alone, it renders with placeholders.
locals {
  # One pull secret when the router image is private (a registry user is set), none otherwise.
  origin_image_pull_secret_names = var.origin_image_pull_username == null ? [] : ["origin-image-pull"]
  origin_image_pull_dockerconfigjson = jsonencode({
    auths = {
      (split("/", var.origin_image)[0]) = {
        auth = base64encode("${coalesce(var.origin_image_pull_username, "-")}:${coalesce(var.origin_image_pull_token, "-")}")
      }
    }
  })
}

data "kustomization_overlay" "origin" {
  resources = [var.kustomize_overlay_path]

  images {
    name     = "llm-gateway-origin"
    new_name = var.origin_image
  }

  config_map_generator {
    name      = "model-sync"
    namespace = "llm-origin"
    behavior  = "merge"
    literals  = ["MODEL_BUCKET=${local.model_bucket_name}", "AWS_REGION=${var.aws_region}"]
  }

  secret_generator {
    name      = "origin-secrets"
    namespace = "llm-origin"
    type      = "Opaque"
    literals  = ["ORIGIN_SIGNING_KEYS=${var.origin_signing_keys}"]
  }

  dynamic "secret_generator" {
    for_each = local.origin_image_pull_secret_names

    content {
      name      = secret_generator.value
      namespace = "llm-origin"
      type      = "kubernetes.io/dockerconfigjson"
      literals  = [".dockerconfigjson=${local.origin_image_pull_dockerconfigjson}"]
    }
  }

  dynamic "patches" {
    for_each = local.origin_image_pull_secret_names

    content {
      target {
        kind = "Deployment"
        name = "origin-router"
      }
      patch = <<-EOT
        - op: add
          path: /spec/template/spec/imagePullSecrets
          value:
            - name: ${patches.value}
      EOT
    }
  }

  patches {
    target {
      kind = "NetworkPolicy"
      name = "origin-router"
    }
    patch = <<-EOT
      - op: replace
        path: /spec/ingress/0/from/0/ipBlock/cidr
        value: ${local.load_balancer_source_cidr}
    EOT
  }

  kustomize_options {
    load_restrictor = "none"
  }
}

locals {
  origin_ids_prio = data.kustomization_overlay.origin.ids_prio
  origin_manifest = data.kustomization_overlay.origin.manifests
}

# Namespaces (and CRDs) first.
resource "kustomization_resource" "origin_p0" {
  for_each = local.origin_ids_prio[0]

  manifest = local.origin_manifest[each.value]
}

# Everything else. Secrets stay out of the plan output. Needs the load balancer controller's
# webhook (TargetGroupBinding), the EBS CSI driver (model volumes) and the GPU device plugin.
resource "kustomization_resource" "origin_p1" {
  for_each = local.origin_ids_prio[1]

  manifest = (
    contains(["_/Secret"], regex("(?P<group_kind>.*/.*)/.*/.*", each.value)["group_kind"])
    ? sensitive(local.origin_manifest[each.value])
    : local.origin_manifest[each.value]
  )

  depends_on = [
    kustomization_resource.origin_p0,
    helm_release.aws_load_balancer_controller,
    helm_release.nvidia_device_plugin,
    module.model_loader_pod_identity,
    aws_lb_target_group.router,
  ]
}

resource "kustomization_resource" "origin_p2" {
  for_each = local.origin_ids_prio[2]

  manifest = local.origin_manifest[each.value]

  depends_on = [kustomization_resource.origin_p1]
}

################################################################################
# Alerts, scrape targets and the Grafana dashboard (infra/monitoring)
################################################################################

data "kustomization_build" "monitoring" {
  path = var.monitoring_path
}

resource "kustomization_resource" "monitoring" {
  for_each = data.kustomization_build.monitoring.ids

  manifest = data.kustomization_build.monitoring.manifests[each.value]

  depends_on = [helm_release.kube_prometheus_stack]
}
