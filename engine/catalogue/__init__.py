"""The service catalogue: packages, deployment into versions, versions and their differences."""
