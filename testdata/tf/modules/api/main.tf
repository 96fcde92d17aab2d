resource "google_service_account" "runtime" {
  account_id = "api-${var.region}"
}

resource "google_cloud_run_v2_service" "this" {
  name     = "api-${var.region}"
  location = var.region

  template {
    service_account = google_service_account.runtime.email
    containers {
      image = "gcr.io/acme/api:1"
    }
  }
}

module "db" {
  source = "../db"
}
