################################################################################
# The edge's way in: an ALB that only Cloudflare can complete a TLS handshake with
################################################################################
#
# 443: HTTPS with mutual TLS in verify mode against a trust store holding only the CA of the
#      client certificate Cloudflare presents (per-hostname authenticated origin pulls, edge
#      module). Forwards /v1/* and /health/* to the router pods; anything else is 404 (so
#      /metrics is not reachable from outside). Behind that, the router checks the edge's HMAC
#      signature on every request.
# 8443: HTTPS without client certificates for the Cloudflare load-balancer health monitor;
#      serves /health/ready only. Same Origin CA certificate, which the monitors cannot
#      verify: they run with allow_insecure = true (edge module README).
# Both only accept Cloudflare's IP ranges (security group).

resource "aws_acm_certificate" "origin" {
  private_key      = var.origin_tls_private_key_pem
  certificate_body = var.origin_tls_certificate_pem
  tags             = merge(local.tags, { Name = var.origin_hostname })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_s3_bucket" "trust_store" {
  bucket_prefix = "${local.name}-edge-ca-"
  tags          = local.tags
}

resource "aws_s3_bucket_public_access_block" "trust_store" {
  bucket                  = aws_s3_bucket.trust_store.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_object" "edge_client_ca" {
  bucket       = aws_s3_bucket.trust_store.id
  key          = "edge-client-ca.pem"
  content      = var.edge_client_ca_pem
  content_type = "application/x-pem-file"
}

resource "aws_lb_trust_store" "edge" {
  name                             = "${local.name}-edge"
  ca_certificates_bundle_s3_bucket = aws_s3_bucket.trust_store.id
  ca_certificates_bundle_s3_key    = aws_s3_object.edge_client_ca.key
  tags                             = local.tags
}

resource "aws_security_group" "alb" {
  name        = "${local.name}-origin-alb"
  description = "Origin load balancer: HTTPS from Cloudflare only"
  vpc_id      = module.vpc.vpc_id
  tags        = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = toset(var.edge_ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "Cloudflare to origin (mTLS)"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "alb_health" {
  for_each = toset(var.edge_ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "Cloudflare load-balancer health monitor"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 8443
  to_port           = 8443
}

resource "aws_vpc_security_group_egress_rule" "alb_to_router" {
  security_group_id = aws_security_group.alb.id
  description       = "To the origin router pods"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
}

resource "aws_vpc_security_group_ingress_rule" "nodes_from_alb" {
  security_group_id            = module.eks.node_security_group_id
  description                  = "Origin load balancer to the router pods"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_lb" "origin" {
  name                       = "${local.name}-origin"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = module.vpc.public_subnets
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  # Long generations stream for minutes with pauses between chunks.
  idle_timeout = 900
  tags         = local.tags
}

# The TargetGroupBinding in infra/k8s/base/router refers to this group by name.
resource "aws_lb_target_group" "router" {
  name                 = "llm-origin-router"
  port                 = 8080
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = module.vpc.vpc_id
  deregistration_delay = 30

  health_check {
    path                = "/health/ready"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = local.tags
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.origin.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate.origin.arn

  mutual_authentication {
    mode            = "verify"
    trust_store_arn = aws_lb_trust_store.edge.arn
  }

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      message_body = "{\"error\":{\"message\":\"not found\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"not_found\"}}"
      status_code  = "404"
    }
  }

  tags = local.tags
}

resource "aws_lb_listener_rule" "api" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.router.arn
  }

  condition {
    path_pattern {
      values = ["/v1/*", "/health/*"]
    }
  }

  tags = local.tags
}

resource "aws_lb_listener" "health" {
  load_balancer_arn = aws_lb.origin.arn
  port              = 8443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate.origin.arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }

  tags = local.tags
}

resource "aws_lb_listener_rule" "health" {
  listener_arn = aws_lb_listener.health.arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.router.arn
  }

  condition {
    path_pattern {
      values = ["/health/ready"]
    }
  }

  tags = local.tags
}
