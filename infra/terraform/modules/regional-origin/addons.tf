################################################################################
# Cluster add-ons the manifests rely on (Helm charts, pinned)
################################################################################

# Registers the router pods (by IP) in the ALB target group through the TargetGroupBinding.
resource "helm_release" "aws_load_balancer_controller" {
  name       = "aws-load-balancer-controller"
  namespace  = "kube-system"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = "3.5.0"

  values = [yamlencode({
    clusterName = module.eks.cluster_name
    region      = var.aws_region
    vpcId       = module.vpc.vpc_id
    serviceAccount = {
      name = "aws-load-balancer-controller"
    }
    nodeSelector = {
      "llm-gateway/node-role" = "router"
    }
  })]

  depends_on = [module.lb_controller_pod_identity, module.eks]
}

# Advertises nvidia.com/gpu on the GPU nodes (its default affinity matches the
# nvidia.com/gpu.present=true label the GPU node group sets, and it tolerates the GPU taint).
resource "helm_release" "nvidia_device_plugin" {
  name       = "nvidia-device-plugin"
  namespace  = "kube-system"
  repository = "https://nvidia.github.io/k8s-device-plugin"
  chart      = "nvidia-device-plugin"
  version    = "0.20.0"

  depends_on = [module.eks]
}

# Prometheus (with the operator's CRDs), Alertmanager and Grafana. The selectors pick up every
# PrometheusRule/PodMonitor/ServiceMonitor (infra/monitoring), the Grafana sidecar every
# ConfigMap labelled grafana_dashboard=1.
resource "helm_release" "kube_prometheus_stack" {
  name             = "kube-prometheus-stack"
  namespace        = "monitoring"
  create_namespace = true
  repository       = "https://prometheus-community.github.io/helm-charts"
  chart            = "kube-prometheus-stack"
  version          = "88.5.3"

  values = [yamlencode({
    prometheus = {
      prometheusSpec = {
        externalLabels = {
          region         = var.region_key
          residency_zone = var.residency_zone
        }
        ruleSelectorNilUsesHelmValues           = false
        serviceMonitorSelectorNilUsesHelmValues = false
        podMonitorSelectorNilUsesHelmValues     = false
        retention                               = "15d"
        nodeSelector = {
          "llm-gateway/node-role" = "router"
        }
      }
    }
    grafana = {
      sidecar = {
        dashboards = {
          enabled         = true
          label           = "grafana_dashboard"
          labelValue      = "1"
          searchNamespace = "ALL"
        }
      }
    }
  })]

  depends_on = [module.eks]
}

# GPU metrics (DCGM_FI_DEV_GPU_UTIL, ...) from every GPU node, scraped through its ServiceMonitor.
resource "helm_release" "dcgm_exporter" {
  name       = "dcgm-exporter"
  namespace  = "monitoring"
  repository = "https://nvidia.github.io/dcgm-exporter/helm-charts"
  chart      = "dcgm-exporter"
  version    = "4.8.2"

  values = [yamlencode({
    nodeSelector = {
      "nvidia.com/gpu.present" = "true"
    }
    tolerations = [{
      key      = "nvidia.com/gpu"
      operator = "Exists"
      effect   = "NoSchedule"
    }]
    serviceMonitor = {
      enabled = true
    }
  })]

  depends_on = [helm_release.kube_prometheus_stack]
}

# Serves the custom metrics API for the router's HPA: the pods metric origin_queue_depth is the
# router's queue summed over its pools, per pod.
resource "helm_release" "prometheus_adapter" {
  name       = "prometheus-adapter"
  namespace  = "monitoring"
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "prometheus-adapter"
  version    = "5.3.0"

  values = [yamlencode({
    prometheus = {
      url  = "http://kube-prometheus-stack-prometheus.monitoring.svc"
      port = 9090
    }
    rules = {
      default = false
      custom = [{
        seriesQuery = "origin_queue_depth{namespace!=\"\",pod!=\"\"}"
        resources = {
          overrides = {
            namespace = { resource = "namespace" }
            pod       = { resource = "pod" }
          }
        }
        name = {
          matches = "^origin_queue_depth$"
          as      = "origin_queue_depth"
        }
        metricsQuery = "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
      }]
    }
  })]

  depends_on = [helm_release.kube_prometheus_stack]
}
