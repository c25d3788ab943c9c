output "worker_script_names" {
  description = "Name of each gateway Worker script, by Worker key."
  value       = { for key, script in cloudflare_workers_script.gateway : key => script.script_name }
}

output "gateway_urls" {
  description = "Public base URL of each gateway Worker's API, by Worker key."
  value       = { for key, domain in cloudflare_workers_custom_domain.gateway : key => "https://${domain.hostname}" }
}

output "origin_hostnames" {
  description = "Hostname of each regional origin, by region key (what the edge config points at)."
  value       = local.origin_hostnames
}

output "load_balancer_hostname" {
  description = "Hostname of the geo-steered load balancer over all origins."
  value       = cloudflare_load_balancer.origins.name
}

output "origin_tls" {
  description = "Origin CA certificate and private key of each regional origin, for its load balancer."
  value = {
    for key in keys(var.origins) : key => {
      certificate_pem = cloudflare_origin_ca_certificate.origin[key].certificate
      private_key_pem = tls_private_key.origin[key].private_key_pem
    }
  }
  sensitive = true
}

output "edge_client_ca_pem" {
  description = "CA certificate the origins' load balancers verify Cloudflare's client certificate against (mTLS trust store)."
  value       = tls_self_signed_cert.edge_client_ca.cert_pem
}

output "edge_client_certificate_id" {
  description = "Id of the client certificate uploaded for per-hostname authenticated origin pulls."
  value       = cloudflare_authenticated_origin_pulls_hostname_certificate.edge_client.id
}
