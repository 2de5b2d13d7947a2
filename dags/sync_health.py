"""Airflow DAG: nightly sync of the health department (one task per source YAML with `department: health`)."""

from unsilo_department_dag import department_dag

dag = department_dag("health")
