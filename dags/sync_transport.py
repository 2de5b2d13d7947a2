"""Airflow DAG: nightly sync of the transport department (one task per source YAML with `department: transport`)."""

from unsilo_department_dag import department_dag

dag = department_dag("transport")
