# Root module of a small stack: a public site, project grants and one API module per region.
# The comment names resource "google_cloud_run_v2_service" "decoy" to show that comments are
# not blocks.

terraform {
  required_providers {
    google = {
      source = "hashicorp/google"
    }
  }
}

resource "google_cloud_run_v2_service" "site" {
  name     = "site"
  location = "europe-west1"

  template {
    containers {
      image = "gcr.io/acme/site:1"
    }
  }

  description = <<-EOT
    resource "google_cloud_run_v2_service" "in_a_heredoc" {
    }
  EOT
}

resource "google_project_iam_member" "x" {
  count   = 2
  project = "acme-prod"
  role    = "roles/run.invoker"
  member  = "allUsers"
}

module "api" {
  source   = "./modules/api"
  for_each = toset(["eu", "us"])
  region   = each.key
}

module "network" {
  source  = "terraform-google-modules/network/google"
  version = "~> 9.0"
}
