from services.factory.app import service
from shared.service import serve

serve(service)
