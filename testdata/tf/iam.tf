data "google_iam_policy" "public" {
  binding {
    role    = "roles/run.invoker"
    members = ["allUsers"]
  }
}

resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = toset(["site"])
  name     = google_cloud_run_v2_service.site.name
  location = "europe-west1"
  role     = "roles/run.invoker"
  member   = "allUsers"
}
