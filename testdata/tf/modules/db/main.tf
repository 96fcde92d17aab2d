# The database's identity; its Cloud SQL instance lives in another stack.
resource "google_service_account" "db" {
  account_id = "db"
}
