"""The privacy notice (aviso de privacidad), integral and simplified."""
