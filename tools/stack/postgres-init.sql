-- One role and one database per service, as the local launcher creates them.
CREATE ROLE order_service LOGIN;
CREATE DATABASE order_service OWNER order_service;
CREATE ROLE warehouse_service LOGIN;
CREATE DATABASE warehouse_service OWNER warehouse_service;
CREATE ROLE factory_service LOGIN;
CREATE DATABASE factory_service OWNER factory_service;
CREATE ROLE delivery_service LOGIN;
CREATE DATABASE delivery_service OWNER delivery_service;
CREATE ROLE analytics_service LOGIN;
CREATE DATABASE analytics_service OWNER analytics_service;
CREATE ROLE monitor_service LOGIN;
CREATE DATABASE monitor_service OWNER monitor_service;
