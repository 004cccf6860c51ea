-- One role and one database per service, as the local launcher creates them (tools/stack/postgres.py): each
-- role logs in with its password (from the container's environment) and may connect to its own database only.
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
\getenv order_service_password FULFIL_POSTGRES_ORDER_SERVICE_PASSWORD
CREATE ROLE order_service LOGIN PASSWORD :'order_service_password';
CREATE DATABASE order_service OWNER order_service;
REVOKE CONNECT ON DATABASE order_service FROM PUBLIC;
GRANT CONNECT ON DATABASE order_service TO order_service;
\getenv warehouse_service_password FULFIL_POSTGRES_WAREHOUSE_SERVICE_PASSWORD
CREATE ROLE warehouse_service LOGIN PASSWORD :'warehouse_service_password';
CREATE DATABASE warehouse_service OWNER warehouse_service;
REVOKE CONNECT ON DATABASE warehouse_service FROM PUBLIC;
GRANT CONNECT ON DATABASE warehouse_service TO warehouse_service;
\getenv factory_service_password FULFIL_POSTGRES_FACTORY_SERVICE_PASSWORD
CREATE ROLE factory_service LOGIN PASSWORD :'factory_service_password';
CREATE DATABASE factory_service OWNER factory_service;
REVOKE CONNECT ON DATABASE factory_service FROM PUBLIC;
GRANT CONNECT ON DATABASE factory_service TO factory_service;
\getenv delivery_service_password FULFIL_POSTGRES_DELIVERY_SERVICE_PASSWORD
CREATE ROLE delivery_service LOGIN PASSWORD :'delivery_service_password';
CREATE DATABASE delivery_service OWNER delivery_service;
REVOKE CONNECT ON DATABASE delivery_service FROM PUBLIC;
GRANT CONNECT ON DATABASE delivery_service TO delivery_service;
\getenv analytics_service_password FULFIL_POSTGRES_ANALYTICS_SERVICE_PASSWORD
CREATE ROLE analytics_service LOGIN PASSWORD :'analytics_service_password';
CREATE DATABASE analytics_service OWNER analytics_service;
REVOKE CONNECT ON DATABASE analytics_service FROM PUBLIC;
GRANT CONNECT ON DATABASE analytics_service TO analytics_service;
\getenv monitor_service_password FULFIL_POSTGRES_MONITOR_SERVICE_PASSWORD
CREATE ROLE monitor_service LOGIN PASSWORD :'monitor_service_password';
CREATE DATABASE monitor_service OWNER monitor_service;
REVOKE CONNECT ON DATABASE monitor_service FROM PUBLIC;
GRANT CONNECT ON DATABASE monitor_service TO monitor_service;
