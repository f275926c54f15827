// Sign in and sign up.

import { login, register } from '../api.js';
import { $ } from '../dom.js';

const loginForm = $('#login-form');
const registerForm = $('#register-form');

export function initAuth({ onSignedIn }) {
  $('[data-testid="register-link"]').addEventListener('click', (event) => {
    event.preventDefault();
    showForm(registerForm);
  });
  $('#login-link').addEventListener('click', (event) => {
    event.preventDefault();
    showForm(loginForm);
  });
  handle(loginForm, (fields) => login(fields.username, fields.password), onSignedIn);
  handle(registerForm, (fields) => register(withoutBlanks(fields)), onSignedIn);
}

function withoutBlanks(fields) {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== ''));
}

function handle(form, submit, onSignedIn) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('[type="submit"]');
    button.disabled = true;
    setError(form, '');
    try {
      const user = await submit(Object.fromEntries(new FormData(form)));
      form.reset();
      onSignedIn(user);
    } catch (error) {
      setError(form, error.status === 401 ? 'Wrong username or password.' : error.message);
    } finally {
      button.disabled = false;
    }
  });
}

function setError(form, message) {
  form.querySelector('.form-error').textContent = message;
}

function showForm(form) {
  loginForm.hidden = form !== loginForm;
  registerForm.hidden = form !== registerForm;
  form.querySelector('input').focus();
}

export function showAuth(message = '') {
  $('#app-screen').hidden = true;
  $('#auth-screen').hidden = false;
  showForm(loginForm);
  setError(loginForm, message);
}

export function hideAuth() {
  $('#auth-screen').hidden = true;
  $('#app-screen').hidden = false;
}
