"""Airflow DAG: nightly sync of the housing department (one task per source YAML with `department: housing`)."""

from unsilo_department_dag import department_dag

dag = department_dag("housing")
