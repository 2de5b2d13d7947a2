"""Airflow DAG: nightly sync of the employment department (one task per source YAML with `department: employment`)."""

from unsilo_department_dag import department_dag

dag = department_dag("employment")
